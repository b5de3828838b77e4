//! Starting and stopping: from a plain #[test], and dropped under a live client.

use std::time::{Duration, Instant};

use super::{base_seed, eks, start, ADMIN_KEY, REGION};

#[test]
fn starts_from_plain_test_and_writes_kubeconfig() {
    let emu = start(base_seed());
    let text = std::fs::read_to_string(emu.kubeconfig_path()).expect("kubeconfig");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("yaml");
    assert_eq!(
        doc["current-context"].as_str(),
        Some("arn:aws:eks:us-east-1:111122223333:cluster/api")
    );
    assert_eq!(
        doc["contexts"].as_sequence().map(std::vec::Vec::len),
        Some(4)
    );
    assert_eq!(
        doc["clusters"][1]["cluster"]["server"].as_str(),
        Some(format!("{}/k8s/111122223333/us-east-1/legacy", emu.endpoint_url()).as_str())
    );
    let dir = emu
        .kubeconfig_path()
        .parent()
        .map(std::path::Path::to_path_buf)
        .expect("dir");
    drop(emu);
    assert!(!dir.exists());
}

#[tokio::test]
async fn dropping_the_emulator_with_a_live_client_does_not_hang() {
    let emu = start(base_seed());
    let c = eks(&emu, ADMIN_KEY, REGION);
    c.list_clusters().send().await.expect("list");
    let t = Instant::now();
    drop(emu);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(c.list_clusters().send().await.is_err());
}
