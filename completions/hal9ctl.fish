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
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
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
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "health" -d 'Check the runtime (local, or the Deployment with --cluster) and say what to do next'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "scale" -d 'Add capacity fast (--emergency), undo it (--restore), or scale to N replicas'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "restart" -d 'Restart the runtime without dropping requests (locally), or roll the Deployment (--cluster)'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "rollback" -d 'Roll the flat → hierarchical migration back, step by step, resumably'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "migrate" -d 'Move the flat → hierarchical migration forward, phase by phase, gated and resumable'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "disk" -d 'Disk use per filesystem, and a safe cleanup of old logs, dumps and build dirs'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "config" -d 'Print the effective config and where each value came from'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "audit" -d 'Show what hal9ctl did: the audit log timeline'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "incident" -d 'Collect what a postmortem needs: health, runtime answers, logs, config, audit, host facts'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "runbook" -d 'List the runbooks, or print one'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c hal9ctl -n "__fish_hal9ctl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l listen -d 'Address to listen on, IP:PORT [default: from config, 127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l drain-timeout -d 'How long in-flight requests may run after SIGTERM [default: from config, 60s]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l admin-token-file -d 'Admin bearer token file [default: STATE_DIR/admin.token, made on first start]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l migration-source -d 'Follow the migration state in a Kubernetes ConfigMap instead of the state dir, e.g. configmap:hal9/hal9-migration (in-cluster config works)' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l migration-phase -d 'Where a state dir with no recorded migration starts, e.g. `flat` for a fresh install that will walk forward with `hal9ctl migrate` [default: from config [migration] initial_phase, else full]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l ready-timeout -d 'With --detach: how long to wait for /ready before giving up' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l detach -d 'Run in the background, log to the state dir, return once /ready answers'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l takeover -d 'Start beside a running instance of the same state dir and take over its pid lock when it exits (used by `hal9ctl restart`)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand serve" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l layer -d 'Enter at the first neuron of this layer' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l neuron -d 'Enter at this neuron' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand signal" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -f -a "port-conflict" -d 'Find who holds the runtime\'s port, stop them safely, and prove the port is free'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and not __fish_seen_subcommand_from port-conflict help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l port -d 'Port to free [default: the port of server.listen in config, 8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l signal -d 'First signal for processes other than the runtime; SIGKILL follows after --grace' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -l grace -d 'How long a process may take to exit before SIGKILL' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
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
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from port-conflict" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from help" -f -a "port-conflict" -d 'Find who holds the runtime\'s port, stop them safely, and prove the port is free'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand emergency; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l watch -d 'Redraw the report every DUR until interrupted' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l wait -d 'Return 0 as soon as healthy; 2 when DUR runs out' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l textfile -d 'With -o prometheus: replace PATH atomically (node_exporter textfile dir) instead of stdout' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand health" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l replicas -d 'Replica count (with --emergency: the floor; the target is never below 2 x current)' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l wait -d 'How long to watch for the new replicas to become ready' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l steal-expired-lock -d '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l emergency -d 'Emergency capacity: never scales down; raises an HPA\'s bounds to match'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l restore -d 'Put back what the last emergency scale recorded'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l force -d 'Scale even though an HPA manages the Deployment'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand scale" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l drain-timeout -d 'How long the old instance may finish in-flight requests [default: from config, 60s]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l wait -d 'How long to wait for the new instance or rollout [default: 30s local, 5m cluster]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l force -d 'Locally: take the port from a foreign process (with the port-conflict safety rules). --cluster: roll even when no node has room for the surge pod'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand restart" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l strategy -d 'How to roll back' -r -f -a "immediate\t'One step to the target phase'
gradual\t'The share moves to the target in N steps, gated on the runtime\'s metrics'
partial\t'Only the named components'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l to-phase -d 'Phase to roll back to [default: the previous phase]; `flat` turns everything off' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l steps -d 'Gradual: number of steps [default: from config, 5]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l interval -d 'Gradual: wait after each step before judging its gates [default: from config, 30s]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l components -d 'Partial: components to roll back' -r -f -a "routing\t'The hierarchical share and the `hierarchical_routing` flag'
features\t'The layer feature flags'
state\t'The migrated data (needs the snapshot taken when it was migrated)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l on-failure -d 'Gradual: what a failed gate does' -r -f -a "abort\t'Go straight to the target (immediate)'
pause\t'Stop and wait for --resume or --abort'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l max-error-percent -d 'Gate: highest error rate per path, in percent [default: from config, 1]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l max-p99 -d 'Gate: highest p99 latency [default: from config, 500ms]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l image -d 'With --detach: the image the Job runs [default: the Deployment\'s runtime image]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l steal-expired-lock -d '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l resume -d 'Continue the unfinished rollback from its journal'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l abort -d 'Abandon the unfinished rollback, leaving the state where it is'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l revision -d 'With --cluster and --strategy immediate: also roll the Deployment back to its previous ReplicaSet template (like `kubectl rollout undo`) and wait for it'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l allow-no-traffic -d 'Gradual: a gate window with fewer than [rollback] min_requests requests is filled with synthetic probe signals (recorded as such) instead of pausing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l detach -d 'With --cluster: run the engine in the cluster as a Job (it survives this machine); prints the Job\'s name once its pod has started'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -f -a "status" -d 'The migration state, and the running or last rollback with its steps'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and not __fish_seen_subcommand_from status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from help" -f -a "status" -d 'The migration state, and the running or last rollback with its steps'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand rollback; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l to-phase -d 'Phase to walk forward to: shadow, canary, state_migration, ramp_up, full' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l steps -d 'Steps in which the share rises into each phase that raises it [default: 1]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l interval -d 'Wait after each step before judging its gates [default: from config, 30s]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l on-failure -d 'What a failed gate does: stop there, or roll back to the last good phase' -r -f -a "stop\t'Stop after the failed step and wait for --resume or --abort'
rollback\t'Go back to the last phase whose gates passed'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l max-error-percent -d 'Gate: highest error rate per path, in percent [default: from config, 1]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l max-p99 -d 'Gate: highest p99 latency [default: from config, 500ms]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l image -d 'With --detach: the image the Job runs [default: the Deployment\'s runtime image]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l steal-expired-lock -d '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l resume -d 'Continue the unfinished migration (or rollback) from its journal'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l abort -d 'Abandon the unfinished migration, leaving the state where it is'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l pause -d 'Ask the running migration to stop after its current step (resumable)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l continue -d 'Continue a paused migration (as --resume)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l allow-no-traffic -d 'A gate window with fewer than [rollback] min_requests requests is filled with synthetic probe signals (recorded as such) instead of pausing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l detach -d 'With --cluster: run the engine in the cluster as a Job (it survives this machine); prints the Job\'s name once its pod has started'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -f -a "status" -d 'The migration state, and the running or last migration or rollback with its steps'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and not __fish_seen_subcommand_from status help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from status" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "status" -d 'The migration state, and the running or last migration or rollback with its steps'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand migrate; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -f -a "usage" -d 'Filesystems of the cleanup roots, with the reclaimable space per category'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -f -a "cleanup" -d 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and not __fish_seen_subcommand_from usage cleanup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -l older-than -d 'Count runtime logs older than this as reclaimable [default: from config, 7d]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -l include-target-dirs -d 'Count Rust target/ build dirs as reclaimable'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from usage" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l target -d 'Disk-use percentage to get below; 0 removes everything eligible [default: from config, 80]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l older-than -d 'Delete runtime logs older than this [default: from config, 7d]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l include-target-dirs -d 'Also delete inside Rust target/ build dirs'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l force -d 'Truncate deleted-but-open files anywhere on a cleaned filesystem, not only under a root'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from cleanup" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from help" -f -a "usage" -d 'Filesystems of the cleanup roots, with the reclaimable space per category'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from help" -f -a "cleanup" -d 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand disk; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l default -d 'Print the embedded default hal9.toml instead'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand config" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l since -d 'Only entries from this long ago until now (e.g. 30m, 2h, 7d)' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l export -d 'Print the entries as a JSON array or CSV (RFC 4180) instead of the report' -r -f -a "json\t''
csv\t''"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l cluster -d 'Also read the rollback and migration journal kept in the cluster (ConfigMap hal9-migration)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand audit" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -f -a "bundle" -d 'Write one .tar.gz for the postmortem and print its path'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and not __fish_seen_subcommand_from bundle help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l context -d 'kubeconfig context [default: the current context, else in-cluster config]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s n -l namespace -d 'Namespace [default: from config, hal9]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l deployment -d 'Deployment [default: from config, hal9-server]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l since -d 'How far back logs, events and the audit timeline go' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l out -d 'Where to write the archive (-o is the report format) [default: ./hal9-incident-HOST-TIME.tar.gz]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l max-log-mib -d 'Keep the last MIB mebibytes of each log' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l cluster -d 'Act on the Kubernetes Deployment instead of the local runtime'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l force -d 'Replace an existing file at --out'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from bundle" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "bundle" -d 'Write one .tar.gz for the postmortem and print its path'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand incident; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand runbook" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s c -l config -d 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s o -l output -d 'Report format' -r -f -a "table\t''
json\t''
nagios\t'Nagios plugin format (health only): status line, perfdata, details'
prometheus\t'node_exporter textfile format (health only)'"
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l url -d 'Local runtime base URL [default: from config, http://127.0.0.1:8080]' -r
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l state-dir -d 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]' -r -F
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s y -l yes -d 'Assume yes; without it a destructive action needs a terminal prompt'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l dry-run -d 'Show the plan, change nothing'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -l no-color -d 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s q -l quiet -d 'Only errors on stderr'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s v -l verbose -d 'More logging on stderr (-v, -vv)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand completions" -s V -l version -d 'Print version'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "serve" -d 'Run the HAL9 neuron runtime (HTTP server)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "signal" -d 'Send a signal to the runtime and show its output and hop-by-hop trace'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "emergency" -d 'Repair a local incident now: free the runtime\'s port'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "health" -d 'Check the runtime (local, or the Deployment with --cluster) and say what to do next'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "scale" -d 'Add capacity fast (--emergency), undo it (--restore), or scale to N replicas'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "restart" -d 'Restart the runtime without dropping requests (locally), or roll the Deployment (--cluster)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "rollback" -d 'Roll the flat → hierarchical migration back, step by step, resumably'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "migrate" -d 'Move the flat → hierarchical migration forward, phase by phase, gated and resumable'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "disk" -d 'Disk use per filesystem, and a safe cleanup of old logs, dumps and build dirs'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "config" -d 'Print the effective config and where each value came from'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "audit" -d 'Show what hal9ctl did: the audit log timeline'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "incident" -d 'Collect what a postmortem needs: health, runtime answers, logs, config, audit, host facts'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "runbook" -d 'List the runbooks, or print one'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and not __fish_seen_subcommand_from serve signal emergency health scale restart rollback migrate disk config audit incident runbook completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and __fish_seen_subcommand_from emergency" -f -a "port-conflict" -d 'Find who holds the runtime\'s port, stop them safely, and prove the port is free'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and __fish_seen_subcommand_from rollback" -f -a "status" -d 'The migration state, and the running or last rollback with its steps'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and __fish_seen_subcommand_from migrate" -f -a "status" -d 'The migration state, and the running or last migration or rollback with its steps'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and __fish_seen_subcommand_from disk" -f -a "usage" -d 'Filesystems of the cleanup roots, with the reclaimable space per category'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and __fish_seen_subcommand_from disk" -f -a "cleanup" -d 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target'
complete -c hal9ctl -n "__fish_hal9ctl_using_subcommand help; and __fish_seen_subcommand_from incident" -f -a "bundle" -d 'Write one .tar.gz for the postmortem and print its path'
