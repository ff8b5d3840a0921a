
use builtin;
use str;

set edit:completion:arg-completer[hal9ctl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'hal9ctl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'hal9ctl'= {
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand -y 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --yes 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --dry-run 'Show the plan, change nothing'
            cand --no-color 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More logging on stderr (-v, -vv)'
            cand --verbose 'More logging on stderr (-v, -vv)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand serve 'Run the HAL9 neuron runtime (HTTP server)'
            cand signal 'Send a signal to the runtime and show its output and hop-by-hop trace'
            cand emergency 'Repair a local incident now: free the runtime''s port'
            cand config 'Print the effective config and where each value came from'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;serve'= {
            cand --listen 'Address to listen on [default: from config, 127.0.0.1:8080]'
            cand --drain-timeout 'How long in-flight requests may run after SIGTERM [default: from config, 60s]'
            cand --admin-token-file 'Admin bearer token file [default: STATE_DIR/admin.token, made on first start]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --detach 'Run in the background, log to the state dir, return once /ready answers'
            cand -y 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --yes 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --dry-run 'Show the plan, change nothing'
            cand --no-color 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More logging on stderr (-v, -vv)'
            cand --verbose 'More logging on stderr (-v, -vv)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hal9ctl;signal'= {
            cand --layer 'Enter at the first neuron of this layer'
            cand --neuron 'Enter at this neuron'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand -y 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --yes 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --dry-run 'Show the plan, change nothing'
            cand --no-color 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More logging on stderr (-v, -vv)'
            cand --verbose 'More logging on stderr (-v, -vv)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hal9ctl;emergency'= {
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand -y 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --yes 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --dry-run 'Show the plan, change nothing'
            cand --no-color 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More logging on stderr (-v, -vv)'
            cand --verbose 'More logging on stderr (-v, -vv)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand port-conflict 'Find who holds the runtime''s port, stop them safely, and prove the port is free'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;emergency;port-conflict'= {
            cand --port 'Port to free [default: the port of server.listen in config, 8080]'
            cand --signal 'First signal for processes other than the runtime; SIGKILL follows after --grace'
            cand --grace 'How long a process may take to exit before SIGKILL'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --udp 'Also look at UDP sockets bound to the port'
            cand --force 'Stop processes other than the HAL9 runtime without asking (safety rules still hold)'
            cand --restart 'Once the port is free, start the runtime (`hal9ctl serve --detach`) and wait for /ready'
            cand -y 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --yes 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --dry-run 'Show the plan, change nothing'
            cand --no-color 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More logging on stderr (-v, -vv)'
            cand --verbose 'More logging on stderr (-v, -vv)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hal9ctl;emergency;help'= {
            cand port-conflict 'Find who holds the runtime''s port, stop them safely, and prove the port is free'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;emergency;help;port-conflict'= {
        }
        &'hal9ctl;emergency;help;help'= {
        }
        &'hal9ctl;config'= {
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --default 'Print the embedded default hal9.toml instead'
            cand -y 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --yes 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --dry-run 'Show the plan, change nothing'
            cand --no-color 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More logging on stderr (-v, -vv)'
            cand --verbose 'More logging on stderr (-v, -vv)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hal9ctl;completions'= {
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand -y 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --yes 'Assume yes; without it a destructive action needs a terminal prompt'
            cand --dry-run 'Show the plan, change nothing'
            cand --no-color 'No colours (NO_COLOR and a non-terminal stdout also turn them off)'
            cand -q 'Only errors on stderr'
            cand --quiet 'Only errors on stderr'
            cand -v 'More logging on stderr (-v, -vv)'
            cand --verbose 'More logging on stderr (-v, -vv)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hal9ctl;help'= {
            cand serve 'Run the HAL9 neuron runtime (HTTP server)'
            cand signal 'Send a signal to the runtime and show its output and hop-by-hop trace'
            cand emergency 'Repair a local incident now: free the runtime''s port'
            cand config 'Print the effective config and where each value came from'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;help;serve'= {
        }
        &'hal9ctl;help;signal'= {
        }
        &'hal9ctl;help;emergency'= {
            cand port-conflict 'Find who holds the runtime''s port, stop them safely, and prove the port is free'
        }
        &'hal9ctl;help;emergency;port-conflict'= {
        }
        &'hal9ctl;help;config'= {
        }
        &'hal9ctl;help;completions'= {
        }
        &'hal9ctl;help;help'= {
        }
    ]
    $completions[$command]
}
