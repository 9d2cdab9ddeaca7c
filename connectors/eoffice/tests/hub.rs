//! The client against the fake hub over real HTTP: each authentication scheme, paging,
//! retries, the circuit breaker, token refresh, acknowledgements and sending.

use std::time::Duration;

use eoffice::fake_hub::{FakeHub, FakeHubOptions, Fault, HubPackage, RandomFaults, Verb};
use eoffice::{
    AckStatus, Auth, CircuitPolicy, HubClient, HubConfig, HubError, OAuth2ClientCredentials,
    RetryPolicy, SignatureEncoding, TimestampFormat, VxpSigning,
};

fn quick(mut config: HubConfig) -> HubConfig {
    config.timeout = Duration::from_millis(800);
    config.retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    };
    config
}

fn packages(n: usize) -> Vec<HubPackage> {
    (1..=n)
        .map(|i| {
            let mut p = HubPackage::new(
                format!("doc-{i:03}"),
                format!("<edXML>{i}</edXML>").into_bytes(),
            );
            p.from = "000.46.24.H44".into();
            p
        })
        .collect()
}

async fn hub(auth: Auth) -> FakeHub {
    let mut options = FakeHubOptions::new(auth);
    options.stall = Duration::from_secs(3);
    let hub = FakeHub::start(options).await.unwrap();
    hub.add(packages(12));
    hub
}

#[tokio::test]
async fn vxp_signed_requests_are_accepted_and_bad_ones_refused() {
    let signing = VxpSigning::new("vxp.portal.01", "khóa-bí-mật");
    let hub = hub(Auth::Vxp(signing.clone())).await;
    let client =
        HubClient::new(quick(HubConfig::new(hub.url(), Auth::Vxp(signing.clone())))).unwrap();
    let list = client.received_list().await.unwrap();
    assert_eq!(list.len(), 12);
    assert_eq!(list[0].doc_id, "doc-001");
    assert_eq!(list[0].from.as_deref(), Some("000.46.24.H44"));
    assert_eq!(
        client.get_edoc("doc-002").await.unwrap(),
        b"<edXML>2</edXML>"
    );

    // A wrong secret, and another canonical string, are both refused without retrying.
    for bad in [
        VxpSigning {
            secret: "sai".into(),
            ..signing.clone()
        },
        VxpSigning {
            canonical: "{systemid}{timestamp}".into(),
            ..signing.clone()
        },
        VxpSigning {
            encoding: SignatureEncoding::Base64,
            ..signing.clone()
        },
    ] {
        let before = hub.auth_failures();
        let client = HubClient::new(quick(HubConfig::new(hub.url(), Auth::Vxp(bad)))).unwrap();
        match client.received_list().await {
            Err(HubError::Auth(_)) => {}
            other => panic!("expected an auth error, got {other:?}"),
        }
        assert_eq!(hub.auth_failures(), before + 1, "no retry on 401");
    }
}

#[tokio::test]
async fn every_timestamp_format_signs() {
    for format in [
        TimestampFormat::UnixSeconds,
        TimestampFormat::UnixMillis,
        TimestampFormat::Rfc3339,
        TimestampFormat::VxpCompact,
    ] {
        let mut signing = VxpSigning::new("s", "k");
        signing.timestamp_format = format;
        signing.canonical = "{method}{path}{docid}{body_sha256}{timestamp}".into();
        let hub = hub(Auth::Vxp(signing.clone())).await;
        let client = HubClient::new(quick(HubConfig::new(hub.url(), Auth::Vxp(signing)))).unwrap();
        assert!(client.get_edoc("doc-001").await.is_ok(), "{format:?}");
    }
}

#[tokio::test]
async fn static_keys_on_v1_paths() {
    let auth = Auth::StaticKey {
        system_id: "lgsp.h44".into(),
        secret_key: "s3cret".into(),
    };
    let hub = hub(auth.clone()).await;
    let client = HubClient::new(quick(HubConfig::new(format!("{}/v1", hub.url()), auth))).unwrap();
    assert_eq!(client.received_list().await.unwrap().len(), 12);
    let wrong = Auth::StaticKey {
        system_id: "lgsp.h44".into(),
        secret_key: "nope".into(),
    };
    let client = HubClient::new(quick(HubConfig::new(hub.url(), wrong))).unwrap();
    assert!(matches!(
        client.received_list().await,
        Err(HubError::Auth(_))
    ));
}

#[tokio::test]
async fn oauth2_tokens_are_fetched_cached_and_refreshed() {
    let credentials = OAuth2ClientCredentials {
        token_url: "/oauth/token".into(),
        client_id: "portal".into(),
        client_secret: "pw".into(),
        scope: Some("edoc".into()),
    };
    let hub = hub(Auth::OAuth2(credentials.clone())).await;
    let client = HubClient::new(quick(HubConfig::new(
        hub.url(),
        Auth::OAuth2(credentials.clone()),
    )))
    .unwrap();
    client.received_list().await.unwrap();
    client.get_edoc("doc-001").await.unwrap();
    assert_eq!(hub.requests("token"), 1, "the token is cached");
    hub.expire_tokens();
    client.get_edoc("doc-001").await.unwrap();
    assert_eq!(hub.requests("token"), 2, "a refused token is replaced once");

    let wrong = OAuth2ClientCredentials {
        client_secret: "bad".into(),
        ..credentials
    };
    let client = HubClient::new(quick(HubConfig::new(hub.url(), Auth::OAuth2(wrong)))).unwrap();
    assert!(matches!(
        client.received_list().await,
        Err(HubError::Auth(_))
    ));
}

#[tokio::test]
async fn lists_are_paged_to_the_end() {
    let hub = hub(Auth::None).await;
    hub.add(packages(40).into_iter().skip(12));
    let mut config = quick(HubConfig::new(hub.url(), Auth::None));
    config.page_size = 7;
    let client = HubClient::new(config).unwrap();
    let ids: Vec<String> = client
        .received_list()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.doc_id)
        .collect();
    assert_eq!(ids.len(), 40);
    assert_eq!(ids.first().map(String::as_str), Some("doc-001"));
    assert_eq!(ids.last().map(String::as_str), Some("doc-040"));
    assert_eq!(hub.requests("getReceivedEdocList"), 6);
}

#[tokio::test]
async fn transient_faults_are_retried_and_refusals_are_not() {
    let hub = hub(Auth::None).await;
    let client = HubClient::new(quick(HubConfig::new(hub.url(), Auth::None))).unwrap();
    hub.fail_next(Verb::GetEdoc, Fault::ServerError, 2);
    assert_eq!(
        client.get_edoc("doc-003").await.unwrap(),
        b"<edXML>3</edXML>"
    );
    assert_eq!(hub.requests("getEdoc"), 3);

    hub.fail_next(Verb::GetEdoc, Fault::CutConnection, 1);
    assert_eq!(
        client.get_edoc("doc-004").await.unwrap(),
        b"<edXML>4</edXML>"
    );

    hub.fail_next(Verb::List, Fault::Timeout, 1);
    assert_eq!(client.received_list().await.unwrap().len(), 12);

    // Three 500s exhaust three attempts.
    hub.fail_next(Verb::GetEdoc, Fault::ServerError, 3);
    assert!(matches!(
        client.get_edoc("doc-005").await,
        Err(HubError::Http { status: 500, .. })
    ));

    // A FAIL envelope is the hub's answer, not an outage.
    let before = hub.requests("getEdoc");
    hub.fail_next(Verb::GetEdoc, Fault::Refuse, 1);
    match client.get_edoc("doc-005").await {
        Err(HubError::Refused { code, .. }) => assert_eq!(code, "E_BUSY"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(hub.requests("getEdoc"), before + 1);
    assert!(matches!(
        client.get_edoc("no-such-doc").await,
        Err(HubError::Refused { .. })
    ));
}

#[tokio::test]
async fn the_circuit_opens_on_a_dead_hub_and_closes_after_a_good_trial() {
    let hub = hub(Auth::None).await;
    let mut config = quick(HubConfig::new(hub.url(), Auth::None));
    config.retry.attempts = 1;
    config.circuit = CircuitPolicy {
        failures_to_open: 3,
        open_for: Duration::from_millis(300),
    };
    let client = HubClient::new(config).unwrap();
    hub.fail_next(Verb::Any, Fault::ServerError, 3);
    for _ in 0..3 {
        assert!(client.get_edoc("doc-001").await.is_err());
    }
    let before = hub.requests("getEdoc");
    assert!(matches!(
        client.get_edoc("doc-001").await,
        Err(HubError::CircuitOpen { failures: 3, .. })
    ));
    assert_eq!(
        hub.requests("getEdoc"),
        before,
        "an open circuit does not call the hub"
    );
    assert!(client.circuit_open());
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(client.get_edoc("doc-001").await.is_ok(), "trial call");
    assert!(!client.circuit_open());
}

#[tokio::test]
async fn acknowledgements_duplicates_and_redelivery() {
    let hub = hub(Auth::None).await;
    let client = HubClient::new(quick(HubConfig::new(hub.url(), Auth::None))).unwrap();
    client
        .update_status("doc-001", AckStatus::Done)
        .await
        .unwrap();
    client
        .update_status("doc-002", AckStatus::Done)
        .await
        .unwrap();
    let listed = client.received_list().await.unwrap();
    assert_eq!(listed.len(), 10, "acknowledged packages leave the list");
    assert!(hub.done().contains("doc-001"));

    // A stalled acknowledgement was recorded before the answer was lost; the retry repeats it.
    hub.fail_next(Verb::UpdateStatus, Fault::CutConnection, 1);
    client
        .update_status("doc-003", AckStatus::Done)
        .await
        .unwrap();
    let acks: Vec<String> = hub.acks().into_iter().map(|a| a.doc_id).collect();
    assert_eq!(acks, ["doc-001", "doc-002", "doc-003", "doc-003"]);

    hub.set_random_faults(RandomFaults {
        duplicate_entry: 1.0,
        redeliver: 1.0,
        ..RandomFaults::default()
    });
    let listed = client.received_list().await.unwrap();
    assert_eq!(
        listed.len(),
        24,
        "every entry twice, acknowledged ones again"
    );
    hub.clear_faults();

    assert!(matches!(
        client.update_status("ghost", AckStatus::Done).await,
        Err(HubError::Refused { .. })
    ));
}

#[tokio::test]
async fn sending_status_packages() {
    let hub = hub(Auth::None).await;
    let client = HubClient::new(quick(HubConfig::new(hub.url(), Auth::None))).unwrap();
    let id = client
        .send_edoc(b"<edXML>status</edXML>".to_vec(), "000.46.24.H44", "status")
        .await
        .unwrap();
    assert_eq!(id, "sent-1");
    assert_eq!(hub.sent(), vec![b"<edXML>status</edXML>".to_vec()]);
    assert_eq!(client.sent_list().await.unwrap().len(), 1);
    // Sending is not idempotent: a 500 is not retried.
    hub.fail_next(Verb::SendEdoc, Fault::ServerError, 1);
    assert!(
        client
            .send_edoc(b"<x/>".to_vec(), "f", "status")
            .await
            .is_err()
    );
    assert_eq!(hub.sent().len(), 1);
}

#[tokio::test]
async fn an_unreachable_hub_is_a_transient_error() {
    let hub = hub(Auth::None).await;
    let url = hub.url();
    hub.shutdown().await;
    let client = HubClient::new(quick(HubConfig::new(url, Auth::None))).unwrap();
    let err = client.received_list().await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert!(matches!(
        HubClient::new(HubConfig::new("ftp://x", Auth::None)),
        Err(HubError::Config(_))
    ));
}
