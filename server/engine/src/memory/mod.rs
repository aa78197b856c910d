//! What Sentinel knows beyond the current incident. Semantic memory ([`semantic`]) is the
//! service catalogue, dependency graph and runbooks; episodic memory ([`episodic`]) is every
//! finished incident with an embedding, searched by similarity at triage.

pub mod embed;
pub mod episodic;
pub mod index;
pub mod minilm;
pub mod own;
pub mod semantic;
