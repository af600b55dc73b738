//! Append-only JSONL audit log in the data directory: an intent line before each
//! call and an outcome line after it, never a secret. (Queue helper implements it.)

pub struct AuditLog {}
