//! The LLM path against a real OpenAI-compatible server: llama-cpp-python's server with the
//! Gemma-3-270M base model (installed by `scripts/setup-llm.sh`, which `make test` runs), on a
//! free loopback port. The model is tiny and its answers are poor, so these tests assert the
//! protocol and the guarantees, never the quality: a tool-only assistant turn is accepted on
//! the wire, a too-long prompt is classified as such, and a whole incident with every role on
//! the model ends with a diagnosis and a decision — through the gate, within the cap, with
//! the roles whose answers were unusable taken over by the built-in engine and saying so.

mod common;

use app::model::*;
use sentinel::agents::RunOutcome;
use sentinel::agents::llm_policy::ConfiguredBrains;
use sentinel::llm::providers::openai::OpenAiModel;
use sentinel::llm::retry::{RetryPolicy, Retrying};
use sentinel::llm::spec::Provider;
use sentinel::llm::{ChatModel, ChatRequest, ChatResponse, LanguageModelError, Message, ToolCall};
use sentinel::service::Sentinel;
use sentinel::tools::Registry;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The venv's python and the model, from `scripts/setup-llm.sh`.
fn installed() -> (PathBuf, PathBuf) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let py = root.join(".tools/llm/venv/bin/python");
    let model = root.join(".tools/llm/gemma-3-270m-q4_k_m.gguf");
    assert!(
        py.exists() && model.exists(),
        "the LLM test server is not installed: run scripts/setup-llm.sh (make test does)"
    );
    (py, model)
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server() -> Server {
    let (py, model) = installed();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(py)
        .args(["-m", "llama_cpp.server", "--model"])
        .arg(&model)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--n_ctx", "4096", "--n_threads", "2"])
        .args(["--chat_format", "chatml-function-calling"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start llama_cpp.server");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}/v1"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let up = http
            .get(format!("{}/models", server.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "llama_cpp.server did not come up"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    server
}

fn model(server: &Server) -> OpenAiModel {
    OpenAiModel::new(
        Provider::OpenAiCompatible,
        server.base.clone(),
        None,
        "gemma-3-270m".into(),
    )
    .unwrap()
}

/// Caps the answer length so a base model cannot ramble for minutes (the protocol is the
/// same; only the run time changes).
struct Short<M>(M);

#[async_trait::async_trait]
impl<M: ChatModel> ChatModel for Short<M> {
    fn name(&self) -> String {
        self.0.name()
    }
    async fn complete(&self, req: &ChatRequest) -> Result<ChatResponse, LanguageModelError> {
        let mut req = req.clone();
        req.max_tokens = Some(req.max_tokens.unwrap_or(96).min(96));
        self.0.complete(&req).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wire_format_holds_against_a_real_server() {
    let server = start_server().await;
    let m = model(&server);
    // A tool-only assistant turn followed by its result: llama.cpp refused `content: null`
    // with HTTP 500; the adapter sends empty text and the server answers.
    let req = ChatRequest {
        messages: vec![
            Message::system("You are an SRE assistant."),
            Message::user("Which deploys landed on checkout?"),
            Message::assistant(
                String::new(),
                vec![ToolCall {
                    id: "call_1".into(),
                    name: "list_recent_deploys".into(),
                    arguments: r#"{"service":"checkout"}"#.into(),
                }],
            ),
            Message::tool("call_1", "list_recent_deploys", r#"{"deploys":[]}"#),
        ],
        tools: vec![],
        temperature: Some(0.0),
        max_tokens: Some(16),
        json_mode: false,
    };
    let r = m.complete(&req).await;
    assert!(r.is_ok(), "a tool-only turn must be accepted: {r:?}");
    // A prompt far beyond the 4096-token context is classified, not retried blindly.
    let huge = "checkout error budget exhausted ".repeat(4000);
    let req = ChatRequest {
        messages: vec![Message::user(&huge)],
        tools: vec![],
        temperature: Some(0.0),
        max_tokens: Some(8),
        json_mode: false,
    };
    let err = m.complete(&req).await.unwrap_err();
    assert!(
        matches!(err, LanguageModelError::ContextLengthExceeded(_)),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_incident_on_the_real_model_still_reaches_a_decision() {
    let server = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = common::test_config(dir.path());
    let cap = cfg.tool_call_cap;
    let m: Arc<dyn ChatModel> = Arc::new(Retrying {
        inner: Arc::new(Short(model(&server))),
        policy: RetryPolicy::immediate(2),
    });
    let registry = Arc::new(Registry::standard());
    let brains = ConfiguredBrains::with_models(
        [
            AgentRole::Triage,
            AgentRole::LogAnalyst,
            AgentRole::DeployCorrelator,
            AgentRole::Remediation,
            AgentRole::Comms,
        ]
        .into_iter()
        .map(|r| (r, m.clone())),
        registry.clone(),
    )
    // The server runs with --n_ctx 4096: every request is fitted to it.
    .with_context_windows([(m.name(), 4096)].into());
    let s = Sentinel::build(cfg, Arc::new(brains), registry)
        .await
        .unwrap();
    let sc = s.scenario("bad_deploy_01").unwrap();
    let (id, telemetry) = s.open_scenario(&sc).await.unwrap();
    let out = s.run_incident(&id, Some(telemetry)).await.unwrap();
    let rec = s.store.get_incident(&id).await.unwrap().unwrap();
    let r = &rec.report;
    let evs = s.store.events_after(Some(&id), 0, 100_000).await.unwrap();
    // The model was really asked, by every role that ran on it.
    let asked: std::collections::BTreeSet<AgentRole> = evs
        .iter()
        .filter(|e| matches!(e.kind, RunEventKind::ModelCalled { .. }))
        .map(|e| e.agent)
        .collect();
    assert!(asked.contains(&AgentRole::Triage), "{asked:?}");
    assert!(r.trajectory.llm_calls > 0);
    eprintln!(
        "real model: {} model calls, {} tool calls, fallbacks {:?}, outcome {out:?}",
        r.trajectory.llm_calls,
        r.trajectory.tool_calls.len(),
        r.trajectory.fallbacks
    );
    // However large the logs and metrics, no request overflowed the context window: the
    // budget cut them first (and the trajectory says what it cut).
    let overflowed: Vec<&String> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            RunEventKind::ModelCalled {
                ok: false, detail, ..
            } => Some(detail),
            _ => None,
        })
        .filter(|d| d.contains("context length"))
        .collect();
    assert!(overflowed.is_empty(), "{overflowed:?}");
    eprintln!("cut to fit: {:?}", r.trajectory.truncations);
    // Never `failed`: a role the model failed is taken over by the engine, and says so.
    assert_ne!(rec.status, IncidentStatus::Failed, "{:?}", r.trajectory);
    let fell_back = evs
        .iter()
        .filter(|e| matches!(e.kind, RunEventKind::AgentFellBack { .. }))
        .count();
    assert_eq!(fell_back, r.trajectory.fallbacks.len());
    assert!(r.triage.is_some() && r.diagnosis.is_some(), "{r:?}");
    // The cap and the gate hold whatever the model said.
    assert!(r.trajectory.tool_calls.len() as u32 <= cap);
    match out {
        RunOutcome::Suspended(req) => {
            assert!(req.action.is_destructive());
            assert_eq!(rec.status, IncidentStatus::AwaitingApproval);
            assert!(
                evs.iter()
                    .any(|e| matches!(e.kind, RunEventKind::ApprovalRequested { .. }))
            );
        }
        RunOutcome::Finished(status) => {
            assert!(matches!(
                status,
                IncidentStatus::Escalated | IncidentStatus::Resolved
            ));
            let m = r.remediation.as_ref().expect("a decision");
            assert!(
                !m.action.is_destructive() || m.approval != ApprovalOutcome::NotRequired,
                "no change without a human decision: {m:?}"
            );
        }
        RunOutcome::Running => panic!("nobody else runs this incident"),
    }
}
