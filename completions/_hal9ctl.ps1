
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
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Check the runtime (local, or the Deployment with --cluster) and say what to do next')
            [CompletionResult]::new('scale', 'scale', [CompletionResultType]::ParameterValue, 'Add capacity fast (--emergency), undo it (--restore), or scale to N replicas')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Restart the runtime without dropping requests (locally), or roll the Deployment (--cluster)')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Roll the flat → hierarchical migration back, step by step, resumably')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Move the flat → hierarchical migration forward, phase by phase, gated and resumable')
            [CompletionResult]::new('disk', 'disk', [CompletionResultType]::ParameterValue, 'Disk use per filesystem, and a safe cleanup of old logs, dumps and build dirs')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the effective config and where each value came from')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show what hal9ctl did: the audit log timeline')
            [CompletionResult]::new('incident', 'incident', [CompletionResultType]::ParameterValue, 'Collect what a postmortem needs: health, runtime answers, logs, config, audit, host facts')
            [CompletionResult]::new('runbook', 'runbook', [CompletionResultType]::ParameterValue, 'List the runbooks, or print one')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on, IP:PORT [default: from config, 127.0.0.1:8080]')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'How long in-flight requests may run after SIGTERM [default: from config, 60s]')
            [CompletionResult]::new('--admin-token-file', '--admin-token-file', [CompletionResultType]::ParameterName, 'Admin bearer token file [default: STATE_DIR/admin.token, made on first start]')
            [CompletionResult]::new('--migration-source', '--migration-source', [CompletionResultType]::ParameterName, 'Follow the migration state in a Kubernetes ConfigMap instead of the state dir, e.g. configmap:hal9/hal9-migration (in-cluster config works)')
            [CompletionResult]::new('--migration-phase', '--migration-phase', [CompletionResultType]::ParameterName, 'Where a state dir with no recorded migration starts, e.g. `flat` for a fresh install that will walk forward with `hal9ctl migrate` [default: from config [migration] initial_phase, else full]')
            [CompletionResult]::new('--ready-timeout', '--ready-timeout', [CompletionResultType]::ParameterName, 'With --detach: how long to wait for /ready before giving up')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'Run in the background, log to the state dir, return once /ready answers')
            [CompletionResult]::new('--takeover', '--takeover', [CompletionResultType]::ParameterName, 'Start beside a running instance of the same state dir and take over its pid lock when it exits (used by `hal9ctl restart`)')
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
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
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
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
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
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
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
        'hal9ctl;health' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('--watch', '--watch', [CompletionResultType]::ParameterName, 'Redraw the report every DUR until interrupted')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'Return 0 as soon as healthy; 2 when DUR runs out')
            [CompletionResult]::new('--textfile', '--textfile', [CompletionResultType]::ParameterName, 'With -o prometheus: replace PATH atomically (node_exporter textfile dir) instead of stdout')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
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
            break
        }
        'hal9ctl;scale' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('--replicas', '--replicas', [CompletionResultType]::ParameterName, 'Replica count (with --emergency: the floor; the target is never below 2 x current)')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to watch for the new replicas to become ready')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
            [CompletionResult]::new('--steal-expired-lock', '--steal-expired-lock', [CompletionResultType]::ParameterName, '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken')
            [CompletionResult]::new('--emergency', '--emergency', [CompletionResultType]::ParameterName, 'Emergency capacity: never scales down; raises an HPA''s bounds to match')
            [CompletionResult]::new('--restore', '--restore', [CompletionResultType]::ParameterName, 'Put back what the last emergency scale recorded')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Scale even though an HPA manages the Deployment')
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
            break
        }
        'hal9ctl;restart' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('--drain-timeout', '--drain-timeout', [CompletionResultType]::ParameterName, 'How long the old instance may finish in-flight requests [default: from config, 60s]')
            [CompletionResult]::new('--wait', '--wait', [CompletionResultType]::ParameterName, 'How long to wait for the new instance or rollout [default: 30s local, 5m cluster]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Locally: take the port from a foreign process (with the port-conflict safety rules). --cluster: roll even when no node has room for the surge pod')
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
            break
        }
        'hal9ctl;rollback' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('--strategy', '--strategy', [CompletionResultType]::ParameterName, 'How to roll back')
            [CompletionResult]::new('--to-phase', '--to-phase', [CompletionResultType]::ParameterName, 'Phase to roll back to [default: the previous phase]; `flat` turns everything off')
            [CompletionResult]::new('--steps', '--steps', [CompletionResultType]::ParameterName, 'Gradual: number of steps [default: from config, 5]')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Gradual: wait after each step before judging its gates [default: from config, 30s]')
            [CompletionResult]::new('--components', '--components', [CompletionResultType]::ParameterName, 'Partial: components to roll back')
            [CompletionResult]::new('--on-failure', '--on-failure', [CompletionResultType]::ParameterName, 'Gradual: what a failed gate does')
            [CompletionResult]::new('--max-error-percent', '--max-error-percent', [CompletionResultType]::ParameterName, 'Gate: highest error rate per path, in percent [default: from config, 1]')
            [CompletionResult]::new('--max-p99', '--max-p99', [CompletionResultType]::ParameterName, 'Gate: highest p99 latency [default: from config, 500ms]')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'With --detach: the image the Job runs [default: the Deployment''s runtime image]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
            [CompletionResult]::new('--steal-expired-lock', '--steal-expired-lock', [CompletionResultType]::ParameterName, '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Continue the unfinished rollback from its journal')
            [CompletionResult]::new('--abort', '--abort', [CompletionResultType]::ParameterName, 'Abandon the unfinished rollback, leaving the state where it is')
            [CompletionResult]::new('--revision', '--revision', [CompletionResultType]::ParameterName, 'With --cluster and --strategy immediate: also roll the Deployment back to its previous ReplicaSet template (like `kubectl rollout undo`) and wait for it')
            [CompletionResult]::new('--allow-no-traffic', '--allow-no-traffic', [CompletionResultType]::ParameterName, 'Gradual: a gate window with fewer than [rollback] min_requests requests is filled with synthetic probe signals (recorded as such) instead of pausing')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'With --cluster: run the engine in the cluster as a Job (it survives this machine); prints the Job''s name once its pod has started')
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
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'The migration state, and the running or last rollback with its steps')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;rollback;status' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
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
            break
        }
        'hal9ctl;rollback;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'The migration state, and the running or last rollback with its steps')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;rollback;help;status' {
            break
        }
        'hal9ctl;rollback;help;help' {
            break
        }
        'hal9ctl;migrate' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('--to-phase', '--to-phase', [CompletionResultType]::ParameterName, 'Phase to walk forward to: shadow, canary, state_migration, ramp_up, full')
            [CompletionResult]::new('--steps', '--steps', [CompletionResultType]::ParameterName, 'Steps in which the share rises into each phase that raises it [default: 1]')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Wait after each step before judging its gates [default: from config, 30s]')
            [CompletionResult]::new('--on-failure', '--on-failure', [CompletionResultType]::ParameterName, 'What a failed gate does: stop there, or roll back to the last good phase')
            [CompletionResult]::new('--max-error-percent', '--max-error-percent', [CompletionResultType]::ParameterName, 'Gate: highest error rate per path, in percent [default: from config, 1]')
            [CompletionResult]::new('--max-p99', '--max-p99', [CompletionResultType]::ParameterName, 'Gate: highest p99 latency [default: from config, 500ms]')
            [CompletionResult]::new('--image', '--image', [CompletionResultType]::ParameterName, 'With --detach: the image the Job runs [default: the Deployment''s runtime image]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
            [CompletionResult]::new('--steal-expired-lock', '--steal-expired-lock', [CompletionResultType]::ParameterName, '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Continue the unfinished migration (or rollback) from its journal')
            [CompletionResult]::new('--abort', '--abort', [CompletionResultType]::ParameterName, 'Abandon the unfinished migration, leaving the state where it is')
            [CompletionResult]::new('--pause', '--pause', [CompletionResultType]::ParameterName, 'Ask the running migration to stop after its current step (resumable)')
            [CompletionResult]::new('--continue', '--continue', [CompletionResultType]::ParameterName, 'Continue a paused migration (as --resume)')
            [CompletionResult]::new('--allow-no-traffic', '--allow-no-traffic', [CompletionResultType]::ParameterName, 'A gate window with fewer than [rollback] min_requests requests is filled with synthetic probe signals (recorded as such) instead of pausing')
            [CompletionResult]::new('--detach', '--detach', [CompletionResultType]::ParameterName, 'With --cluster: run the engine in the cluster as a Job (it survives this machine); prints the Job''s name once its pod has started')
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
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'The migration state, and the running or last migration or rollback with its steps')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;migrate;status' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
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
            break
        }
        'hal9ctl;migrate;help' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'The migration state, and the running or last migration or rollback with its steps')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;migrate;help;status' {
            break
        }
        'hal9ctl;migrate;help;help' {
            break
        }
        'hal9ctl;disk' {
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
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Filesystems of the cleanup roots, with the reclaimable space per category')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;disk;usage' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Count runtime logs older than this as reclaimable [default: from config, 7d]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--include-target-dirs', '--include-target-dirs', [CompletionResultType]::ParameterName, 'Count Rust target/ build dirs as reclaimable')
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
            break
        }
        'hal9ctl;disk;cleanup' {
            [CompletionResult]::new('--target', '--target', [CompletionResultType]::ParameterName, 'Disk-use percentage to get below; 0 removes everything eligible [default: from config, 80]')
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Delete runtime logs older than this [default: from config, 7d]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--include-target-dirs', '--include-target-dirs', [CompletionResultType]::ParameterName, 'Also delete inside Rust target/ build dirs')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Truncate deleted-but-open files anywhere on a cleaned filesystem, not only under a root')
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
            break
        }
        'hal9ctl;disk;help' {
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Filesystems of the cleanup roots, with the reclaimable space per category')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;disk;help;usage' {
            break
        }
        'hal9ctl;disk;help;cleanup' {
            break
        }
        'hal9ctl;disk;help;help' {
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
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hal9ctl;audit' {
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only entries from this long ago until now (e.g. 30m, 2h, 7d)')
            [CompletionResult]::new('--export', '--export', [CompletionResultType]::ParameterName, 'Print the entries as a JSON array or CSV (RFC 4180) instead of the report')
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Also read the rollback and migration journal kept in the cluster (ConfigMap hal9-migration)')
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
            break
        }
        'hal9ctl;incident' {
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
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'Write one .tar.gz for the postmortem and print its path')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;incident;bundle' {
            [CompletionResult]::new('--context', '--context', [CompletionResultType]::ParameterName, 'kubeconfig context [default: the current context, else in-cluster config]')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--namespace', '--namespace', [CompletionResultType]::ParameterName, 'Namespace [default: from config, hal9]')
            [CompletionResult]::new('--deployment', '--deployment', [CompletionResultType]::ParameterName, 'Deployment [default: from config, hal9-server]')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'How far back logs, events and the audit timeline go')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Where to write the archive (-o is the report format) [default: ./hal9-incident-HOST-TIME.tar.gz]')
            [CompletionResult]::new('--max-log-mib', '--max-log-mib', [CompletionResultType]::ParameterName, 'Keep the last MIB mebibytes of each log')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Local runtime base URL [default: from config, http://127.0.0.1:8080]')
            [CompletionResult]::new('--state-dir', '--state-dir', [CompletionResultType]::ParameterName, 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]')
            [CompletionResult]::new('--cluster', '--cluster', [CompletionResultType]::ParameterName, 'Act on the Kubernetes Deployment instead of the local runtime')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing file at --out')
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
            break
        }
        'hal9ctl;incident;help' {
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'Write one .tar.gz for the postmortem and print its path')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'hal9ctl;incident;help;bundle' {
            break
        }
        'hal9ctl;incident;help;help' {
            break
        }
        'hal9ctl;runbook' {
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
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'hal9ctl;help' {
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Run the HAL9 neuron runtime (HTTP server)')
            [CompletionResult]::new('signal', 'signal', [CompletionResultType]::ParameterValue, 'Send a signal to the runtime and show its output and hop-by-hop trace')
            [CompletionResult]::new('emergency', 'emergency', [CompletionResultType]::ParameterValue, 'Repair a local incident now: free the runtime''s port')
            [CompletionResult]::new('health', 'health', [CompletionResultType]::ParameterValue, 'Check the runtime (local, or the Deployment with --cluster) and say what to do next')
            [CompletionResult]::new('scale', 'scale', [CompletionResultType]::ParameterValue, 'Add capacity fast (--emergency), undo it (--restore), or scale to N replicas')
            [CompletionResult]::new('restart', 'restart', [CompletionResultType]::ParameterValue, 'Restart the runtime without dropping requests (locally), or roll the Deployment (--cluster)')
            [CompletionResult]::new('rollback', 'rollback', [CompletionResultType]::ParameterValue, 'Roll the flat → hierarchical migration back, step by step, resumably')
            [CompletionResult]::new('migrate', 'migrate', [CompletionResultType]::ParameterValue, 'Move the flat → hierarchical migration forward, phase by phase, gated and resumable')
            [CompletionResult]::new('disk', 'disk', [CompletionResultType]::ParameterValue, 'Disk use per filesystem, and a safe cleanup of old logs, dumps and build dirs')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Print the effective config and where each value came from')
            [CompletionResult]::new('audit', 'audit', [CompletionResultType]::ParameterValue, 'Show what hal9ctl did: the audit log timeline')
            [CompletionResult]::new('incident', 'incident', [CompletionResultType]::ParameterValue, 'Collect what a postmortem needs: health, runtime answers, logs, config, audit, host facts')
            [CompletionResult]::new('runbook', 'runbook', [CompletionResultType]::ParameterValue, 'List the runbooks, or print one')
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
        'hal9ctl;help;health' {
            break
        }
        'hal9ctl;help;scale' {
            break
        }
        'hal9ctl;help;restart' {
            break
        }
        'hal9ctl;help;rollback' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'The migration state, and the running or last rollback with its steps')
            break
        }
        'hal9ctl;help;rollback;status' {
            break
        }
        'hal9ctl;help;migrate' {
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'The migration state, and the running or last migration or rollback with its steps')
            break
        }
        'hal9ctl;help;migrate;status' {
            break
        }
        'hal9ctl;help;disk' {
            [CompletionResult]::new('usage', 'usage', [CompletionResultType]::ParameterValue, 'Filesystems of the cleanup roots, with the reclaimable space per category')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target')
            break
        }
        'hal9ctl;help;disk;usage' {
            break
        }
        'hal9ctl;help;disk;cleanup' {
            break
        }
        'hal9ctl;help;config' {
            break
        }
        'hal9ctl;help;audit' {
            break
        }
        'hal9ctl;help;incident' {
            [CompletionResult]::new('bundle', 'bundle', [CompletionResultType]::ParameterValue, 'Write one .tar.gz for the postmortem and print its path')
            break
        }
        'hal9ctl;help;incident;bundle' {
            break
        }
        'hal9ctl;help;runbook' {
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
