
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'hal9ctl' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'hal9ctl'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'hal9ctl' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan, change nothing')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR and a non-terminal stdout also turn them off)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the HAL9 neuron runtime (HTTP server)')
            [CompletionResult]::new('signal', 'signal', [CompletionResultType]::ParameterValue, 'Send a signal to the runtime and show its output and hop-by-hop trace')
            [CompletionResult]::new('emergency', 'emergency', [CompletionResultType]::ParameterValue, 'Repair a local incident now: free the runtime''s port')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the effective config and where each value came from')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on [default: from config, 127.0.0.1:8080]')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'How long in-flight requests may run after SIGTERM [default: from config, 60s]')
            [CompletionResult]::new('--admin-token-file', '--admin-token-file', [CompletionResultType]::ParameterName, 'Admin bearer token file [default: STATE_DIR/admin.token, made on first start]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Run in the background, log to the state dir, return once /ready answers')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan, change nothing')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR and a non-terminal stdout also turn them off)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hal9ctl;signal' {
            [CompletionResult]::new('--layer', '--layer', [CompletionResultType]::ParameterName, 'Enter at the first neuron of this layer')
            [CompletionResult]::new('--neuron', '--neuron', [CompletionResultType]::ParameterName, 'Enter at this neuron')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan, change nothing')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR and a non-terminal stdout also turn them off)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hal9ctl;emergency' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan, change nothing')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR and a non-terminal stdout also turn them off)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('port-conflict', 'port-conflict', [CompletionResultType]::ParameterValue, 'Find who holds the runtime''s port, stop them safely, and prove the port is free')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;emergency;port-conflict' {
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port to free [default: the port of server.listen in config, 8080]')
            [CompletionResult]::new('--signal', '--signal', [CompletionResultType]::ParameterName, 'First signal for processes other than the runtime; SIGKILL follows after --grace')
            [CompletionResult]::new('--grace', '--grace', [CompletionResultType]::ParameterName, 'How long a process may take to exit before SIGKILL')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--udp', '--udp', [CompletionResultType]::ParameterName, 'Also look at UDP sockets bound to the port')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Stop processes other than the HAL9 runtime without asking (safety rules still hold)')
            [CompletionResult]::new('--restart', '--restart', [CompletionResultType]::ParameterName, 'Once the port is free, start the runtime (`hal9ctl serve --detach`) and wait for /ready')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan, change nothing')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR and a non-terminal stdout also turn them off)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hal9ctl;emergency;help' {
            [CompletionResult]::new('port-conflict', 'port-conflict', [CompletionResultType]::ParameterValue, 'Find who holds the runtime''s port, stop them safely, and prove the port is free')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;emergency;help;port-conflict' {
            break
        }
        'hal9ctl;emergency;help;help' {
            break
        }
        'hal9ctl;config' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--default', '--default', [CompletionResultType]::ParameterName, 'Print the embedded default hal9.toml instead')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan, change nothing')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR and a non-terminal stdout also turn them off)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hal9ctl;completions' {
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Assume yes; without it a destructive action needs a terminal prompt')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Show the plan, change nothing')
            [CompletionResult]::new('--no-color', '--no-color', [CompletionResultType]::ParameterName, 'No colours (NO_COLOR and a non-terminal stdout also turn them off)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only errors on stderr')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v, -vv)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hal9ctl;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the HAL9 neuron runtime (HTTP server)')
            [CompletionResult]::new('signal', 'signal', [CompletionResultType]::ParameterValue, 'Send a signal to the runtime and show its output and hop-by-hop trace')
            [CompletionResult]::new('emergency', 'emergency', [CompletionResultType]::ParameterValue, 'Repair a local incident now: free the runtime''s port')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the effective config and where each value came from')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;help;serve' {
            break
        }
        'hal9ctl;help;signal' {
            break
        }
        'hal9ctl;help;emergency' {
            [CompletionResult]::new('port-conflict', 'port-conflict', [CompletionResultType]::ParameterValue, 'Find who holds the runtime''s port, stop them safely, and prove the port is free')
            break
        }
        'hal9ctl;help;emergency;port-conflict' {
            break
        }
        'hal9ctl;help;config' {
            break
        }
        'hal9ctl;help;completions' {
            break
        }
        'hal9ctl;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
