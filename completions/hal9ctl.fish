# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_hal9ctl_global_optspecs
    string join \n c/config= o/output= url= state-dir= y/yes dry-run no-color q/quiet v/verbose h/help V/version
end

function __fish_hal9ctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_hal9ctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_hal9ctl_using_subcommand
    set -l cmd (__fish_hal9ctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''"
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "serve" -d 'Run the HAL9 neuron runtime (HTTP server)'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "signal" -d 'Send a signal to the runtime and show its output and hop-by-hop trace'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "emergency" -d 'Repair a local incident now: free the runtime\'s port'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "config" -d 'Print the effective config and where each value came from'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l listen -d 'Address to listen on [default: from config, 127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l drain-timeout -d 'How long in-flight requests may run after SIGTERM [default: from config, 60s]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l admin-token-file -d 'Admin bearer token file [default: STATE_DIR/admin.token, made on first start]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l detach -d 'Run in the background, log to the state dir, return once /ready answers'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s h -l help -d 'Print help'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l layer -d 'Enter at the first neuron of this layer' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l neuron -d 'Enter at this neuron' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s h -l help -d 'Print help'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s h -l help -d 'Print help'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -f -a "port-conflict" -d 'Find who holds the runtime\'s port, stop them safely, and prove the port is free'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l port -d 'Port to free [default: the port of server.listen in config, 8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l signal -d 'First signal for processes other than the runtime; SIGKILL follows after --grace' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l grace -d 'How long a process may take to exit before SIGKILL' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l udp -d 'Also look at UDP sockets bound to the port'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l force -d 'Stop processes other than the HAL9 runtime without asking (safety rules still hold)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l restart -d 'Once the port is free, start the runtime (`hal9ctl serve --detach`) and wait for /ready'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s h -l help -d 'Print help'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from help" -f -a "port-conflict" -d 'Find who holds the runtime\'s port, stop them safely, and prove the port is free'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l default -d 'Print the embedded default hal9.toml instead'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s h -l help -d 'Print help'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency config completions help" -f -a "serve" -d 'Run the HAL9 neuron runtime (HTTP server)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency config completions help" -f -a "signal" -d 'Send a signal to the runtime and show its output and hop-by-hop trace'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency config completions help" -f -a "emergency" -d 'Repair a local incident now: free the runtime\'s port'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency config completions help" -f -a "config" -d 'Print the effective config and where each value came from'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency config completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency config completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and __fish_seen_subcommand_from emergency" -f -a "port-conflict" -d 'Find who holds the runtime\'s port, stop them safely, and prove the port is free'
