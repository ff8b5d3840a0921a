
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
            cand health 'Check the runtime (local, or the Deployment with --cluster) and say what to do next'
            cand scale 'Add capacity fast (--emergency), undo it (--restore), or scale to N replicas'
            cand restart 'Restart the runtime without dropping requests (locally), or roll the Deployment (--cluster)'
            cand rollback 'Roll the flat → hierarchical migration back, step by step, resumably'
            cand migrate 'Move the flat → hierarchical migration forward, phase by phase, gated and resumable'
            cand disk 'Disk use per filesystem, and a safe cleanup of old logs, dumps and build dirs'
            cand config 'Print the effective config and where each value came from'
            cand audit 'Show what hal9ctl did: the audit log timeline'
            cand incident 'Collect what a postmortem needs: health, runtime answers, logs, config, audit, host facts'
            cand runbook 'List the runbooks, or print one'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;serve'= {
            cand --listen 'Address to listen on, IP:PORT [default: from config, 127.0.0.1:8080]'
            cand --drain-timeout 'How long in-flight requests may run after SIGTERM [default: from config, 60s]'
            cand --admin-token-file 'Admin bearer token file [default: STATE_DIR/admin.token, made on first start]'
            cand --migration-source 'Follow the migration state in a Kubernetes ConfigMap instead of the state dir, e.g. configmap:hal9/hal9-migration (in-cluster config works)'
            cand --migration-phase 'Where a state dir with no recorded migration starts, e.g. `flat` for a fresh install that will walk forward with `hal9ctl migrate` [default: from config [migration] initial_phase, else full]'
            cand --ready-timeout 'With --detach: how long to wait for /ready before giving up'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --detach 'Run in the background, log to the state dir, return once /ready answers'
            cand --takeover 'Start beside a running instance of the same state dir and take over its pid lock when it exits (used by `hal9ctl restart`)'
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
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
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
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
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
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
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
        &'hal9ctl;health'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand --watch 'Redraw the report every DUR until interrupted'
            cand --wait 'Return 0 as soon as healthy; 2 when DUR runs out'
            cand --textfile 'With -o prometheus: replace PATH atomically (node_exporter textfile dir) instead of stdout'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
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
        }
        &'hal9ctl;scale'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand --replicas 'Replica count (with --emergency: the floor; the target is never below 2 x current)'
            cand --wait 'How long to watch for the new replicas to become ready'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
            cand --steal-expired-lock '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken'
            cand --emergency 'Emergency capacity: never scales down; raises an HPA''s bounds to match'
            cand --restore 'Put back what the last emergency scale recorded'
            cand --force 'Scale even though an HPA manages the Deployment'
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
        }
        &'hal9ctl;restart'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand --drain-timeout 'How long the old instance may finish in-flight requests [default: from config, 60s]'
            cand --wait 'How long to wait for the new instance or rollout [default: 30s local, 5m cluster]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
            cand --force 'Locally: take the port from a foreign process (with the port-conflict safety rules). --cluster: roll even when no node has room for the surge pod'
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
        }
        &'hal9ctl;rollback'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand --strategy 'How to roll back'
            cand --to-phase 'Phase to roll back to [default: the previous phase]; `flat` turns everything off'
            cand --steps 'Gradual: number of steps [default: from config, 5]'
            cand --interval 'Gradual: wait after each step before judging its gates [default: from config, 30s]'
            cand --components 'Partial: components to roll back'
            cand --on-failure 'Gradual: what a failed gate does'
            cand --max-error-percent 'Gate: highest error rate per path, in percent [default: from config, 1]'
            cand --max-p99 'Gate: highest p99 latency [default: from config, 500ms]'
            cand --image 'With --detach: the image the Job runs [default: the Deployment''s runtime image]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
            cand --steal-expired-lock '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken'
            cand --resume 'Continue the unfinished rollback from its journal'
            cand --abort 'Abandon the unfinished rollback, leaving the state where it is'
            cand --revision 'With --cluster and --strategy immediate: also roll the Deployment back to its previous ReplicaSet template (like `kubectl rollout undo`) and wait for it'
            cand --allow-no-traffic 'Gradual: a gate window with fewer than [rollback] min_requests requests is filled with synthetic probe signals (recorded as such) instead of pausing'
            cand --detach 'With --cluster: run the engine in the cluster as a Job (it survives this machine); prints the Job''s name once its pod has started'
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
            cand status 'The migration state, and the running or last rollback with its steps'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;rollback;status'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
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
        }
        &'hal9ctl;rollback;help'= {
            cand status 'The migration state, and the running or last rollback with its steps'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;rollback;help;status'= {
        }
        &'hal9ctl;rollback;help;help'= {
        }
        &'hal9ctl;migrate'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand --to-phase 'Phase to walk forward to: shadow, canary, state_migration, ramp_up, full'
            cand --steps 'Steps in which the share rises into each phase that raises it [default: 1]'
            cand --interval 'Wait after each step before judging its gates [default: from config, 30s]'
            cand --on-failure 'What a failed gate does: stop there, or roll back to the last good phase'
            cand --max-error-percent 'Gate: highest error rate per path, in percent [default: from config, 1]'
            cand --max-p99 'Gate: highest p99 latency [default: from config, 500ms]'
            cand --image 'With --detach: the image the Job runs [default: the Deployment''s runtime image]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
            cand --steal-expired-lock '--cluster: take over the Lease hal9-migration-lock once it has expired (its holder died or was cut off); a lease still being renewed is never taken'
            cand --resume 'Continue the unfinished migration (or rollback) from its journal'
            cand --abort 'Abandon the unfinished migration, leaving the state where it is'
            cand --pause 'Ask the running migration to stop after its current step (resumable)'
            cand --continue 'Continue a paused migration (as --resume)'
            cand --allow-no-traffic 'A gate window with fewer than [rollback] min_requests requests is filled with synthetic probe signals (recorded as such) instead of pausing'
            cand --detach 'With --cluster: run the engine in the cluster as a Job (it survives this machine); prints the Job''s name once its pod has started'
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
            cand status 'The migration state, and the running or last migration or rollback with its steps'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;migrate;status'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
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
        }
        &'hal9ctl;migrate;help'= {
            cand status 'The migration state, and the running or last migration or rollback with its steps'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;migrate;help;status'= {
        }
        &'hal9ctl;migrate;help;help'= {
        }
        &'hal9ctl;disk'= {
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
            cand usage 'Filesystems of the cleanup roots, with the reclaimable space per category'
            cand cleanup 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;disk;usage'= {
            cand --older-than 'Count runtime logs older than this as reclaimable [default: from config, 7d]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --include-target-dirs 'Count Rust target/ build dirs as reclaimable'
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
        }
        &'hal9ctl;disk;cleanup'= {
            cand --target 'Disk-use percentage to get below; 0 removes everything eligible [default: from config, 80]'
            cand --older-than 'Delete runtime logs older than this [default: from config, 7d]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --include-target-dirs 'Also delete inside Rust target/ build dirs'
            cand --force 'Truncate deleted-but-open files anywhere on a cleaned filesystem, not only under a root'
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
        }
        &'hal9ctl;disk;help'= {
            cand usage 'Filesystems of the cleanup roots, with the reclaimable space per category'
            cand cleanup 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;disk;help;usage'= {
        }
        &'hal9ctl;disk;help;cleanup'= {
        }
        &'hal9ctl;disk;help;help'= {
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
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hal9ctl;audit'= {
            cand --since 'Only entries from this long ago until now (e.g. 30m, 2h, 7d)'
            cand --export 'Print the entries as a JSON array or CSV (RFC 4180) instead of the report'
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Also read the rollback and migration journal kept in the cluster (ConfigMap hal9-migration)'
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
        }
        &'hal9ctl;incident'= {
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
            cand bundle 'Write one .tar.gz for the postmortem and print its path'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;incident;bundle'= {
            cand --context 'kubeconfig context [default: the current context, else in-cluster config]'
            cand -n 'Namespace [default: from config, hal9]'
            cand --namespace 'Namespace [default: from config, hal9]'
            cand --deployment 'Deployment [default: from config, hal9-server]'
            cand --since 'How far back logs, events and the audit timeline go'
            cand --out 'Where to write the archive (-o is the report format) [default: ./hal9-incident-HOST-TIME.tar.gz]'
            cand --max-log-mib 'Keep the last MIB mebibytes of each log'
            cand -c 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand --config 'Config file [default: ./hal9.toml, $XDG_CONFIG_HOME/hal9/hal9.toml, /etc/hal9/hal9.toml, else embedded]'
            cand -o 'Report format'
            cand --output 'Report format'
            cand --url 'Local runtime base URL [default: from config, http://127.0.0.1:8080]'
            cand --state-dir 'Runtime state dir [default: $XDG_STATE_HOME/hal9; as root /var/lib/hal9]'
            cand --cluster 'Act on the Kubernetes Deployment instead of the local runtime'
            cand --force 'Replace an existing file at --out'
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
        }
        &'hal9ctl;incident;help'= {
            cand bundle 'Write one .tar.gz for the postmortem and print its path'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'hal9ctl;incident;help;bundle'= {
        }
        &'hal9ctl;incident;help;help'= {
        }
        &'hal9ctl;runbook'= {
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
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'hal9ctl;help'= {
            cand serve 'Run the HAL9 neuron runtime (HTTP server)'
            cand signal 'Send a signal to the runtime and show its output and hop-by-hop trace'
            cand emergency 'Repair a local incident now: free the runtime''s port'
            cand health 'Check the runtime (local, or the Deployment with --cluster) and say what to do next'
            cand scale 'Add capacity fast (--emergency), undo it (--restore), or scale to N replicas'
            cand restart 'Restart the runtime without dropping requests (locally), or roll the Deployment (--cluster)'
            cand rollback 'Roll the flat → hierarchical migration back, step by step, resumably'
            cand migrate 'Move the flat → hierarchical migration forward, phase by phase, gated and resumable'
            cand disk 'Disk use per filesystem, and a safe cleanup of old logs, dumps and build dirs'
            cand config 'Print the effective config and where each value came from'
            cand audit 'Show what hal9ctl did: the audit log timeline'
            cand incident 'Collect what a postmortem needs: health, runtime answers, logs, config, audit, host facts'
            cand runbook 'List the runbooks, or print one'
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
        &'hal9ctl;help;health'= {
        }
        &'hal9ctl;help;scale'= {
        }
        &'hal9ctl;help;restart'= {
        }
        &'hal9ctl;help;rollback'= {
            cand status 'The migration state, and the running or last rollback with its steps'
        }
        &'hal9ctl;help;rollback;status'= {
        }
        &'hal9ctl;help;migrate'= {
            cand status 'The migration state, and the running or last migration or rollback with its steps'
        }
        &'hal9ctl;help;migrate;status'= {
        }
        &'hal9ctl;help;disk'= {
            cand usage 'Filesystems of the cleanup roots, with the reclaimable space per category'
            cand cleanup 'Delete old logs, rotated logs, crash dumps (and target/ dirs), oldest first, until below --target'
        }
        &'hal9ctl;help;disk;usage'= {
        }
        &'hal9ctl;help;disk;cleanup'= {
        }
        &'hal9ctl;help;config'= {
        }
        &'hal9ctl;help;audit'= {
        }
        &'hal9ctl;help;incident'= {
            cand bundle 'Write one .tar.gz for the postmortem and print its path'
        }
        &'hal9ctl;help;incident;bundle'= {
        }
        &'hal9ctl;help;runbook'= {
        }
        &'hal9ctl;help;completions'= {
        }
        &'hal9ctl;help;help'= {
        }
    ]
    $completions[$command]
}
