//! Reading scenario files with errors that name the file and the field.

use super::Scenario;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}: field `{field}`: {message}")]
    Field {
        file: PathBuf,
        field: String,
        message: String,
    },
    #[error("{file}: invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "no scenario {0:?} (not a scenario id in the scenarios directory, nor a readable .json file)"
    )]
    NotFound(String),
    #[error("duplicate scenario id {id:?} in {first} and {second}")]
    Duplicate {
        id: String,
        first: PathBuf,
        second: PathBuf,
    },
}

/// Parses one scenario from text; `file` only names the source in errors.
pub fn parse_scenario(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ScenarioError::Syntax {
                file: file.to_path_buf(),
                line: inner.line(),
                column: inner.column(),
                message: inner.to_string(),
            }
        } else {
            let message = inner.to_string();
            // serde names a missing field in the message; append it to the path.
            let field = match missing_field(&message) {
                Some(missing) if path == "." || path.is_empty() => missing.to_string(),
                Some(missing) => format!("{path}.{missing}"),
                None => path,
            };
            ScenarioError::Field {
                file: file.to_path_buf(),
                field,
                message: strip_position(&message),
            }
        }
    })?;
    validate(&scenario, file)?;
    Ok(scenario)
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn validate(s: &Scenario, file: &Path) -> Result<(), ScenarioError> {
    let field = |field: &str, message: String| ScenarioError::Field {
        file: file.to_path_buf(),
        field: field.to_string(),
        message,
    };
    if s.scenario_id.trim().is_empty() {
        return Err(field("scenario_id", "must not be empty".into()));
    }
    s.alert().map_err(|e| field(&e.field, e.message))?;
    sentinel_model::Priority::parse(&s.ground_truth.severity)
        .map_err(|e| field("ground_truth.severity", e.message))?;
    sentinel_model::RemediationAction::parse(&s.ground_truth.recommended_action)
        .map_err(|e| field("ground_truth.recommended_action", e.message))?;
    for (name, list) in [
        ("acceptable_actions", &s.ground_truth.acceptable_actions),
        ("harmful_actions", &s.ground_truth.harmful_actions),
    ] {
        for (i, a) in list.iter().enumerate() {
            sentinel_model::RemediationAction::parse(a)
                .map_err(|e| field(&format!("ground_truth.{name}[{i}]"), e.message))?;
        }
    }
    if !s.alert.threshold.is_finite() {
        return Err(field("alert.threshold", "must be a finite number".into()));
    }
    if !s.alert.current_value.is_finite() {
        return Err(field(
            "alert.current_value",
            "must be a finite number".into(),
        ));
    }
    Ok(())
}

pub fn load_scenario_file(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
        file: path.to_path_buf(),
        source,
    })?;
    parse_scenario(&text, path)
}

/// Every `*.json` under `dir`, subfolders included (a suite may group several sets).
fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), ScenarioError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ScenarioError::Io {
        file: dir.to_path_buf(),
        source,
    })?;
    for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        if p.is_dir() {
            scenario_files(&p, out)?;
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
    Ok(())
}

/// Loads every `*.json` under `dir` (subfolders included), sorted by id. Any broken file is
/// an error, and so is an id used twice.
pub fn load_scenario_dir(dir: &Path) -> Result<Vec<Scenario>, ScenarioError> {
    let mut files = Vec::new();
    scenario_files(dir, &mut files)?;
    files.sort();
    let mut out: Vec<(Scenario, PathBuf)> = Vec::with_capacity(files.len());
    for f in files {
        let s = load_scenario_file(&f)?;
        if let Some((_, first)) = out.iter().find(|(o, _)| o.scenario_id == s.scenario_id) {
            return Err(ScenarioError::Duplicate {
                id: s.scenario_id.clone(),
                first: first.clone(),
                second: f,
            });
        }
        out.push((s, f));
    }
    let mut scenarios: Vec<Scenario> = out.into_iter().map(|(s, _)| s).collect();
    scenarios.sort_by(|a, b| a.scenario_id.cmp(&b.scenario_id));
    Ok(scenarios)
}

/// Resolves a CLI argument: a path to a `.json` file, or a scenario id in `dir`.
pub fn resolve_scenario(arg: &str, dir: &Path) -> Result<Scenario, ScenarioError> {
    let p = Path::new(arg);
    if arg.ends_with(".json") || p.is_file() {
        return load_scenario_file(p);
    }
    let all = load_scenario_dir(dir)?;
    all.into_iter()
        .find(|s| s.scenario_id == arg)
        .ok_or_else(|| ScenarioError::NotFound(arg.to_string()))
}
