//! Before versus after, principal by principal.
