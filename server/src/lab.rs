//! `sentinel lab …`: the lab's commands. `lab fleet` runs the simulated fleet
//! (`sentinel-lab`), with Sentinel's webhook token and `[notify.webhook] secret` from the same
//! configuration file Sentinel runs with (so the executor checks Sentinel's signature);
//! `lab faults` lists the fault kinds; `lab inject` starts one through the fleet's control API.

use crate::config::Config;
use clap::Subcommand;
use sentinel_lab::faults::Kind;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The control API's default address (`make lab` uses it; tests pass their own).
pub const DEFAULT_CONTROL: &str = "127.0.0.1:9470";

#[derive(Subcommand)]
pub enum LabCommand {
    /// Run the simulated fleet: `/metrics` per service, logs, deploys, faults, the executor.
    Fleet {
        /// Where logs (`logs/`) and the services' git repositories (`git/`) go.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// The control API's address.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: String,
        /// Service i of the catalogue serves /metrics on this port + i.
        #[arg(long, default_value_t = 9471)]
        metrics_base_port: u16,
        /// Sentinel's base URL, to announce deploys and changes to (`/webhooks/change`).
        #[arg(long)]
        sentinel: Option<String>,
        /// Seed of the fleet's noise and instance names.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// List the fault kinds and the services each can hit.
    Faults,
    /// Randomised faults end to end through Prometheus, Alertmanager, the agents, the
    /// approval and the executor; reports solved, harmful and timings per fault kind.
    Eval(crate::lab_eval::LabEvalArgs),
    /// Write the lab's configuration files (Sentinel, Prometheus, Alertmanager, rules) into
    /// DIR (scripts/lab.sh).
    StackConfig {
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        #[arg(long)]
        sentinel_port: u16,
        #[arg(long)]
        prometheus_port: u16,
        #[arg(long)]
        alertmanager_port: u16,
        #[arg(long)]
        control_port: u16,
        #[arg(long)]
        metrics_base_port: u16,
    },
    /// Inject a fault into a running fleet.
    Inject {
        /// A fault kind (`sentinel lab faults`).
        fault: String,
        #[arg(long)]
        service: Option<String>,
        /// Randomises the fault (service-independent details, wording, innocent changes).
        #[arg(long)]
        seed: Option<u64>,
        /// Seconds until the symptoms begin (its changes land before).
        #[arg(long, default_value_t = 60)]
        delay: i64,
        /// The fleet's control API.
        #[arg(long, default_value = DEFAULT_CONTROL)]
        control: String,
    },
}

pub async fn run(config: Config, cmd: LabCommand) -> Result<ExitCode, String> {
    match cmd {
        LabCommand::Faults => {
            println!("{:<22} {:<44} DESCRIPTION", "FAULT", "SERVICES");
            for k in Kind::ALL {
                println!(
                    "{:<22} {:<44} {}",
                    k.as_str(),
                    k.candidates().join(","),
                    k.describe()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Eval(args) => crate::lab_eval::run(config, args).await,
        LabCommand::StackConfig {
            dir,
            sentinel_port,
            prometheus_port,
            alertmanager_port,
            control_port,
            metrics_base_port,
        } => {
            let catalog = sentinel_lab::catalog::Catalog::load(&config.services_dir)
                .map_err(|e| e.to_string())?;
            let services: Vec<String> = catalog.services.iter().map(|s| s.name.clone()).collect();
            // Fresh secrets, never on a command line: the caller reads them from DIR/env.
            let (token, secret, operator) = (
                crate::lab_eval::secret(),
                crate::lab_eval::secret(),
                crate::lab_eval::secret(),
            );
            sentinel_lab::stack::write_configs(
                &dir,
                &services,
                sentinel_lab::stack::Ports {
                    sentinel: sentinel_port,
                    prometheus: prometheus_port,
                    alertmanager: alertmanager_port,
                    control: control_port,
                    metrics_base: metrics_base_port,
                },
                &token,
                &secret,
            )
            .map_err(|e| format!("--dir {}: {e}", dir.display()))?;
            let env = dir.join("env");
            std::fs::write(
                &env,
                format!("SENTINEL_WEBHOOK_TOKEN={token}\nSENTINEL_OPERATOR_TOKEN={operator}\n"),
            )
            .map_err(|e| format!("--dir {}: {e}", dir.display()))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o600));
            }
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Inject {
            fault,
            service,
            seed,
            delay,
            control,
        } => {
            Kind::parse(&fault).map_err(|e| format!("fault: {e}"))?;
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| e.to_string())?;
            let resp = http
                .post(format!("http://{control}/inject"))
                .json(&serde_json::json!({ "fault": fault, "service": service, "seed": seed, "delay_secs": delay }))
                .send()
                .await
                .map_err(|e| format!("--control {control}: the fleet does not answer ({})", e.without_url()))?;
            let status = resp.status();
            let body: serde_json::Value = resp.json().await.unwrap_or_default();
            if !status.is_success() {
                return Err(body["error"]
                    .as_str()
                    .unwrap_or("the fleet refused the fault")
                    .to_string());
            }
            println!(
                "injected {} into {} (seed {}); symptoms from {}",
                body["fault"].as_str().unwrap_or(&fault),
                body["service"].as_str().unwrap_or("?"),
                body["seed"],
                body["onset"].as_str().unwrap_or("?")
            );
            Ok(ExitCode::SUCCESS)
        }
        LabCommand::Fleet {
            dir,
            control,
            metrics_base_port,
            sentinel,
            seed,
        } => {
            let control = control
                .parse()
                .map_err(|e| format!("--control {control:?}: {e}"))?;
            let cfg = sentinel_lab::control::LabConfig {
                services_dir: config.services_dir.clone(),
                dir,
                control,
                metrics_base_port,
                sentinel,
                webhook_token: config.ingest.webhook_token.clone(),
                executor_secret: config
                    .file
                    .notify
                    .webhook
                    .as_ref()
                    .and_then(|w| w.secret.as_ref())
                    .map(|s| s.expose().to_string()),
                seed,
            };
            eprintln!(
                "lab fleet: control API on http://{control}, /metrics from port {metrics_base_port}"
            );
            sentinel_lab::control::serve(cfg)
                .await
                .map(|_| ExitCode::SUCCESS)
                .map_err(|e| e.to_string())
        }
    }
}
