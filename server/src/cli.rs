//! The command line (CONTRACTS.md §3): `serve`, `scenarios`, `run`, `eval`, and `lab`.

use crate::agents::RunOutcome;
use crate::config::Config;
use crate::service::Sentinel;
use app::model::*;
use clap::{Parser, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sentinel",
    version,
    about = "Autonomous incident response with a human-approval gate"
)]
pub struct Cli {
    /// A TOML configuration file (docs/CONTRACTS.md §6); also `SENTINEL_CONFIG`.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Web dashboard + API.
    Serve {
        /// Address to listen on (default 127.0.0.1:8000; LEPTOS_SITE_ADDR is also honoured).
        #[arg(long)]
        addr: Option<String>,
    },
    /// List scenarios (id, failure class, service).
    Scenarios,
    /// Run one incident end to end.
    Run {
        /// A scenario id from the scenarios directory, or a path to a scenario .json file.
        scenario: String,
        #[arg(long, conflicts_with = "auto_reject")]
        auto_approve: bool,
        #[arg(long)]
        auto_reject: bool,
        /// Print exactly one JSON object (the run report) on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Batch evaluation of scenarios.
    Eval(crate::eval::EvalArgs),
    /// MCP server on stdio (one JSON-RPC message per line): Sentinel's read tools for an MCP
    /// client. Logs go to stderr.
    Mcp,
    /// The lab: a simulated fleet with injectable faults (README, "The lab").
    #[command(subcommand)]
    Lab(crate::lab::LabCommand),
    /// Print an incident's postmortem draft (Markdown) from the database.
    Postmortem {
        /// The incident id (`inc-…`, as listed by the dashboard or `GET /api/incidents`).
        incident_id: String,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(matches!(cli.command, Command::Serve { .. }));
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(serving: bool) {
    let default = if serving {
        "info,sqlx=warn,tower_http=info"
    } else {
        "warn,sqlx=warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn build_sentinel(config: Config) -> Result<Sentinel, String> {
    crate::bootstrap::sentinel(config)
        .await
        .map_err(|e| e.to_string())
}

async fn dispatch(cli: Cli) -> Result<ExitCode, String> {
    let config = Config::load(&crate::config::Env::from_process(), cli.config.as_deref())
        .map_err(|e| e.to_string())?;
    match cli.command {
        Command::Postmortem { incident_id } => {
            let store = crate::store::Store::connect(&config.database_url)
                .await
                .map_err(|e| e.to_string())?;
            match crate::service::postmortem_draft(&store, incident_id.trim())
                .await
                .map_err(|e| e.to_string())?
            {
                Some(text) => {
                    print!("{text}");
                    Ok(ExitCode::SUCCESS)
                }
                None => Err(format!(
                    "incident_id: no incident {:?} in {}",
                    incident_id,
                    crate::redact::url(&config.database_url)
                )),
            }
        }
        Command::Scenarios => {
            let scenarios = crate::scenario::load_scenario_dir(&config.scenarios_dir)
                .map_err(|e| e.to_string())?;
            println!("{:<28} {:<20} SERVICE", "ID", "FAILURE CLASS");
            for s in scenarios {
                println!(
                    "{:<28} {:<20} {}",
                    s.scenario_id, s.failure_class, s.alert.service
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            scenario,
            auto_approve,
            auto_reject,
            json,
        } => run(config, &scenario, auto_approve, auto_reject, json).await,
        Command::Serve { addr } => {
            let addr = addr
                .or_else(|| config.site_addr.clone())
                .unwrap_or_else(|| "127.0.0.1:8000".into());
            let addr: std::net::SocketAddr =
                addr.parse().map_err(|e| format!("--addr {addr:?}: {e}"))?;
            crate::http::serve(config, addr)
                .await
                .map(|_| ExitCode::SUCCESS)
        }
        Command::Eval(args) => crate::eval::run_cli(config, args).await,
        Command::Mcp => mcp_stdio(config).await,
        Command::Lab(cmd) => crate::lab::run(config, cmd).await,
    }
}

/// `sentinel mcp`: reads one JSON-RPC message per line from stdin and writes each reply as
/// one line to stdout. Messages are handled concurrently (an investigation does not hold up a
/// ping); one writer keeps the lines whole. Ends when stdin closes.
async fn mcp_stdio(config: Config) -> Result<ExitCode, String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let server = crate::mcp::McpServer::new(build_sentinel(config).await?);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<String>(64);
    let writer = tokio::spawn(async move {
        let mut out = tokio::io::stdout();
        while let Some(line) = rx.recv().await {
            if out.write_all(line.as_bytes()).await.is_err()
                || out.write_all(b"\n").await.is_err()
                || out.flush().await.is_err()
            {
                break;
            }
        }
    });
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut tasks = tokio::task::JoinSet::new();
    while let Some(line) = lines.next_line().await.map_err(|e| format!("stdin: {e}"))? {
        if line.trim().is_empty() {
            continue;
        }
        let (server, tx) = (server.clone(), tx.clone());
        tasks.spawn(async move {
            if let Some(reply) = server.handle_text(&line).await {
                let _ = tx.send(reply).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    drop(tx);
    let _ = writer.await;
    Ok(ExitCode::SUCCESS)
}

async fn run(
    config: Config,
    scenario: &str,
    auto_approve: bool,
    auto_reject: bool,
    json: bool,
) -> Result<ExitCode, String> {
    let sentinel = build_sentinel(config).await?;
    let s = sentinel.scenario(scenario).map_err(|e| e.to_string())?;
    let (id, telemetry) = sentinel
        .open_scenario(&s)
        .await
        .map_err(|e| e.to_string())?;
    // Progress on stderr while agents work (not with --json, which keeps output clean).
    let progress = (!json).then(|| {
        let mut rx = sentinel.events.subscribe();
        let id = id.clone();
        tokio::spawn(async move {
            while let Ok(ev) = rx.recv().await {
                if ev.incident_id == id {
                    eprintln!("  [{:<17}] {}", ev.agent.as_str(), ev.kind.describe());
                }
            }
        })
    });
    if !json {
        eprintln!("Sentinel: incident {id} for scenario {}", s.scenario_id);
    }
    let mut outcome = sentinel
        .run_incident(&id, Some(telemetry))
        .await
        .map_err(|e| e.to_string())?;
    if let RunOutcome::Suspended(req) = &outcome {
        let decision = if auto_approve {
            Some(
                ApprovalDecision::parse("approve", "auto-approved (--auto-approve)", "cli")
                    .map_err(|e| e.to_string())?,
            )
        } else if auto_reject {
            Some(
                ApprovalDecision::parse("reject", "auto-rejected (--auto-reject)", "cli")
                    .map_err(|e| e.to_string())?,
            )
        } else {
            ask(req, sentinel.config.force_prompt, whoami(&sentinel.config))?
        };
        if let Some(d) = decision {
            outcome = sentinel.decide(&id, d).await.map_err(|e| e.to_string())?;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    if let Some(p) = progress {
        p.abort();
    }
    let rec = sentinel
        .store
        .get_incident(&id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("incident vanished")?;
    if json {
        println!(
            "{}",
            serde_json::to_string(&rec.report).map_err(|e| e.to_string())?
        );
    } else {
        print_human(&rec.report);
        if let RunOutcome::Suspended(_) = outcome {
            println!(
                "\nThe incident is awaiting approval; decide it in the dashboard or with the API."
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks on the terminal. Returns None when there is no terminal to ask (stays pending).
fn ask(
    req: &ApprovalRequest,
    force_prompt: bool,
    who: String,
) -> Result<Option<ApprovalDecision>, String> {
    let stdin = std::io::stdin();
    eprintln!("\n=== Approval requested ===");
    eprintln!(
        "action:   {} {}",
        req.action,
        req.target.as_deref().unwrap_or("")
    );
    eprintln!("risk:     {}", req.risk);
    eprintln!("proposer: {}", req.proposer);
    for e in &req.evidence {
        eprintln!("  - {e}");
    }
    if !stdin.is_terminal() && !force_prompt {
        eprintln!(
            "(stdin is not a terminal: leaving the approval pending; use --auto-approve or --auto-reject in scripts)"
        );
        return Ok(None);
    }
    let mut lines = stdin.lock().lines();
    loop {
        eprint!("Approve? [y/n] ");
        let _ = std::io::stderr().flush();
        let Some(line) = lines.next() else {
            return Ok(None);
        };
        let line = line.map_err(|e| e.to_string())?;
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => {
                return ApprovalDecision::parse("approve", "approved on the terminal", &who)
                    .map(Some)
                    .map_err(|e| e.to_string());
            }
            "n" | "no" => {
                eprint!("Reason for rejecting: ");
                let _ = std::io::stderr().flush();
                let reason = lines
                    .next()
                    .transpose()
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                let reason = if reason.trim().is_empty() {
                    "rejected on the terminal".to_string()
                } else {
                    reason
                };
                return ApprovalDecision::parse("reject", &reason, &who)
                    .map(Some)
                    .map_err(|e| e.to_string());
            }
            _ => eprintln!("please answer y or n"),
        }
    }
}

fn whoami(config: &Config) -> String {
    config
        .user
        .as_ref()
        .map(|u| format!("{u} (terminal)"))
        .unwrap_or_else(|| "terminal".into())
}

fn print_human(r: &RunReport) {
    println!("\nIncident {} — {}", r.incident_id, r.status);
    if let Some(t) = &r.triage {
        println!(
            "Triage:      {} {} ({})",
            t.service, t.severity, t.rationale
        );
        for s in &t.similar {
            println!(
                "  similar:   {} ({:.2}) {}",
                s.incident_id,
                s.similarity,
                s.summary.as_deref().unwrap_or("")
            );
        }
        if let Some(d) = &t.duplicate_of {
            println!("  duplicate of {d}");
        }
    }
    if let Some(d) = &r.diagnosis {
        println!(
            "Diagnosis:   {} (confidence {:.2})",
            d.summary, d.confidence
        );
        for e in &d.evidence {
            println!("  evidence:  {e}");
        }
    }
    if let Some(m) = &r.remediation {
        println!(
            "Remediation: {} {} — approval {}",
            m.action,
            m.target.as_deref().unwrap_or(""),
            m.approval.as_str()
        );
    }
    if let Some(c) = &r.comms {
        println!("\n{}", c.summary);
    }
    println!(
        "\n{} tool calls, {} model calls, {:.1} ms{}",
        r.trajectory.tool_calls.len(),
        r.trajectory.llm_calls,
        r.trajectory.elapsed_ms,
        r.trajectory
            .stop_reason
            .as_ref()
            .map(|s| format!(" — {s}"))
            .unwrap_or_default()
    );
}
