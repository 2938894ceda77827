//! DPoP-bound tokens (RFC 9449) through the whole authorizer, on REST `REQUEST`, HTTP API 1.0 and
//! 2.0 events: every check of §4.3 with proofs made by joserfc (`tests/fixtures/
//! sender_constrained/make.py`) and by the `jsonwebtoken` crate at test time, the modes, the
//! scheme, the proof headers, introspected tokens, and replay within one process and through
//! the replay table on a DynamoDB-compatible server (`support/dynamodb.rs`).

mod support;

#[path = "support/bound.rs"]
mod bound;
#[path = "support/dynamodb.rs"]
mod dynamodb;

use bound::{
    Carried, FORMATS, Format, ProofKey, authorizer, decide, event, expected, fixture_now,
    fixture_path, fixtures, reason, rest_url, token, token_event,
};
use jsonwebtoken::Algorithm;
use jwt_scopes_api::authorizer::Outcome;
use jwt_scopes_api::reason::Reason;
use serde_json::{Value, json};

/// Every joserfc-made case gets its reason, in each request format.
#[tokio::test]
async fn rfc9449_each_check_of_section_4_3_on_every_request_format() {
    let cases = fixtures()["dpop"].as_object().unwrap();
    assert!(cases.len() >= 30, "{}", cases.len());
    for (name, case) in cases {
        let (token, proof) = (
            case["token"].as_str().unwrap(),
            case["proof"].as_str().unwrap(),
        );
        let want = expected(reason(case["reason"].as_str().unwrap()));
        for format in FORMATS {
            let event = event(format, "GET", fixture_path(), &Carried::dpop(token, proof));
            let got = decide(&authorizer(&[]), &event, fixture_now()).await;
            assert_eq!(got, want, "{name} in {format:?}");
        }
    }
}

/// On an HTTP API's `$default` stage, `rawPath` is the path the client called: a proof for the
/// API's own base URL is accepted.
#[tokio::test]
async fn http_api_default_stage_raw_path_joins_its_base_url() {
    let case = &fixtures()["dpop_http_v2"]["es256"];
    let carried = Carried::dpop(
        case["token"].as_str().unwrap(),
        case["proof"].as_str().unwrap(),
    );
    let event = event(Format::HttpV2, "GET", fixture_path(), &carried);
    assert_eq!(
        decide(&authorizer(&[]), &event, fixture_now()).await,
        (Outcome::Allow, Reason::Granted)
    );
}

/// Proofs signed by the `jsonwebtoken` crate at test time, bound by its own RFC 7638
/// thumbprint, at the edges of the window (`AUTH_DPOP_MAX_AGE_SECONDS` plus the leeway).
#[tokio::test]
async fn jsonwebtoken_proofs_and_the_window_edges() {
    let now = support::now();
    let path = "/products";
    for alg in [Algorithm::ES256, Algorithm::EdDSA, Algorithm::RS256] {
        let key = ProofKey::generate(alg);
        let token = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
        for (age, want) in [
            (0_i64, Reason::Granted),
            (120, Reason::Granted),
            (121, Reason::DpopProofStale),
            (-60, Reason::Granted),
            (-61, Reason::DpopProofStale),
        ] {
            let iat = now.checked_add_signed(-age).unwrap();
            let proof = key.proof(&token, "GET", &rest_url(path), iat, json!({}));
            for format in FORMATS {
                let event = event(format, "GET", path, &Carried::dpop(&token, &proof));
                assert_eq!(
                    decide(&authorizer(&[]), &event, now).await,
                    expected(want),
                    "{alg:?} aged {age} s in {format:?}"
                );
            }
        }
        let window = [
            ("AUTH_DPOP_MAX_AGE_SECONDS", "10"),
            ("AUTH_LEEWAY_SECONDS", "0"),
        ];
        let proof = key.proof(&token, "GET", &rest_url(path), now - 11, json!({}));
        let event = event(Format::Rest, "GET", path, &Carried::dpop(&token, &proof));
        assert_eq!(
            decide(&authorizer(&window), &event, now).await,
            expected(Reason::DpopProofStale)
        );
    }
}

/// RFC 9449 §4.3 step 1: exactly one `DPoP` header.
#[tokio::test]
async fn rfc9449_exactly_one_proof_header() {
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let token = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
    let proof = |_| key.proof(&token, "GET", &rest_url("/products"), now, json!({}));
    let (a, b) = (proof(1), proof(2));
    for format in FORMATS {
        let none = Carried {
            proofs: vec![],
            ..Carried::dpop(&token, &a)
        };
        let two = Carried {
            proofs: vec![&a, &b],
            ..Carried::dpop(&token, &a)
        };
        for (carried, want) in [
            (none, Reason::DpopProofMissing),
            (two, Reason::DpopProofMultiple),
        ] {
            let event = event(format, "GET", "/products", &carried);
            assert_eq!(
                decide(&authorizer(&[]), &event, now).await,
                expected(want),
                "{format:?}"
            );
        }
    }
}

/// RFC 9449 §7.1: a DPoP-bound token presented as a bearer token is refused, whatever proof
/// comes with it; a bearer token with a stray `DPoP` header still works while DPoP is allowed.
#[tokio::test]
async fn rfc9449_a_bound_token_is_refused_as_a_bearer_token() {
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let bound = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
    let proof = key.proof(&bound, "GET", &rest_url("/products"), now, json!({}));
    let plain = token(now, json!({}));
    for format in FORMATS {
        let as_bearer = Carried {
            proofs: vec![&proof],
            ..Carried::bearer(&bound)
        };
        let event_of = |carried: &Carried<'_>| event(format, "GET", "/products", carried);
        assert_eq!(
            decide(&authorizer(&[]), &event_of(&as_bearer), now).await,
            expected(Reason::DpopBoundAsBearer),
            "{format:?}"
        );
        let bearer = Carried {
            proofs: vec![&proof],
            ..Carried::bearer(&plain)
        };
        assert_eq!(
            decide(&authorizer(&[]), &event_of(&bearer), now).await,
            expected(Reason::Granted),
            "{format:?}"
        );
    }
}

/// A `TOKEN` event holds only the `Authorization` value: no proof can arrive.
#[tokio::test]
async fn a_bound_token_through_a_token_authorizer_is_refused() {
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let bound = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
    for authorization in [format!("DPoP {bound}"), format!("Bearer {bound}")] {
        assert_eq!(
            decide(
                &authorizer(&[]),
                &token_event(&authorization, "/products"),
                now
            )
            .await,
            expected(Reason::BindingNeedsRequestEvent),
            "{authorization:.10}"
        );
    }
    let plain = token(now, json!({}));
    assert_eq!(
        decide(
            &authorizer(&[]),
            &token_event(&format!("DPoP {plain}"), "/products"),
            now
        )
        .await,
        expected(Reason::BindingNeedsRequestEvent)
    );
}

/// `AUTH_DPOP`: `required` refuses bearer tokens; `off` reads the `DPoP` scheme as no token and
/// refuses DPoP-bound tokens; without `AUTH_PUBLIC_URL` no proof can be checked.
#[tokio::test]
async fn auth_dpop_modes_and_a_missing_public_url() {
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let bound = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
    let plain = token(now, json!({}));
    let proof = || key.proof(&bound, "GET", &rest_url("/products"), now, json!({}));
    let request = |carried: &Carried<'_>| event(Format::Rest, "GET", "/products", carried);
    let required = [("AUTH_DPOP", "required")];
    let off = [("AUTH_DPOP", "off")];
    type Vars<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Vars<'_>, String, Reason); 5] = [
        (
            &required,
            request(&Carried::dpop(&bound, &proof())),
            Reason::Granted,
        ),
        (
            &required,
            request(&Carried::bearer(&plain)),
            Reason::DpopRequired,
        ),
        (
            &off,
            request(&Carried::dpop(&bound, &proof())),
            Reason::MissingToken,
        ),
        (&off, request(&Carried::bearer(&bound)), Reason::DpopOff),
        (&off, request(&Carried::bearer(&plain)), Reason::Granted),
    ];
    for (vars, event, want) in cases {
        assert_eq!(
            decide(&authorizer(vars), &event, now).await,
            expected(want),
            "{vars:?}"
        );
    }
    let unconfigured = bound::authorizer_without_public_url();
    let event = request(&Carried::dpop(&bound, &proof()));
    assert_eq!(
        decide(&unconfigured, &event, now).await,
        expected(Reason::DpopUnconfigured)
    );
    let plain_event = request(&Carried::bearer(&plain));
    assert_eq!(
        decide(&unconfigured, &plain_event, now).await,
        expected(Reason::Granted),
        "bearer tokens still work"
    );
}

/// RFC 9449 §11.1: a proof is used once. Within one process, even when the same proof arrives
/// in concurrent invocations, exactly one is accepted.
#[tokio::test]
async fn rfc9449_a_proof_is_accepted_once_per_process() {
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let bound = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
    let authorizer = authorizer(&[]);
    for format in FORMATS {
        let proof = key.proof(&bound, "GET", &rest_url("/products"), now, json!({}));
        let event = event(format, "GET", "/products", &Carried::dpop(&bound, &proof));
        assert_eq!(
            decide(&authorizer, &event, now).await,
            expected(Reason::Granted)
        );
        assert_eq!(
            decide(&authorizer, &event, now + 1).await,
            expected(Reason::DpopReplayed),
            "{format:?}"
        );
    }
    let proof = key.proof(&bound, "GET", &rest_url("/products"), now, json!({}));
    let event = event(
        Format::HttpV2,
        "GET",
        "/products",
        &Carried::dpop(&bound, &proof),
    );
    let decisions =
        futures_util::future::join_all((0..16).map(|_| decide(&authorizer, &event, now))).await;
    let granted = decisions.iter().filter(|d| d.1 == Reason::Granted).count();
    assert_eq!(granted, 1, "{decisions:?}");
    assert!(
        decisions
            .iter()
            .all(|d| d.1 == Reason::Granted || d.1 == Reason::DpopReplayed)
    );
}

/// `AUTH_REPLAY_TABLE`: a proof accepted by one instance is refused by another; a table that
/// cannot be written refuses every proof (fail closed), within the tables' timeout.
#[tokio::test]
async fn rfc9449_the_replay_table_spans_instances_and_fails_closed() {
    let Some((_server, client, table)) = dynamodb::fresh_table("replay", "pk").await else {
        return;
    };
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let bound = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
    let vars = [
        ("AUTH_REPLAY_TABLE", table.as_str()),
        ("AUTH_TABLE_TIMEOUT_MS", "1000"),
    ];
    let first = authorizer(&vars).with_dynamodb(client.clone());
    let second = authorizer(&vars).with_dynamodb(client.clone());
    let proof = key.proof(&bound, "GET", &rest_url("/products"), now, json!({}));
    let once = event(
        Format::Rest,
        "GET",
        "/products",
        &Carried::dpop(&bound, &proof),
    );
    assert_eq!(decide(&first, &once, now).await, expected(Reason::Granted));
    assert_eq!(
        decide(&second, &once, now).await,
        expected(Reason::DpopReplayed),
        "another instance, same proof"
    );
    let item = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .items
        .unwrap();
    assert_eq!(item.len(), 1);
    let expires_at = item[0]["expiresAt"].as_n().unwrap().parse::<u64>().unwrap();
    assert_eq!(
        expires_at,
        now + 60 + 60 + 1,
        "the window's end: TTL housekeeping"
    );
    assert!(item[0]["pk"].as_s().unwrap().starts_with("dpop#"));

    let fresh = key.proof(&bound, "GET", &rest_url("/products"), now, json!({}));
    let fresh_event = event(
        Format::Rest,
        "GET",
        "/products",
        &Carried::dpop(&bound, &fresh),
    );
    let missing = authorizer(&[("AUTH_REPLAY_TABLE", "no-such-table")]).with_dynamodb(client);
    assert_eq!(
        decide(&missing, &fresh_event, now).await,
        expected(Reason::ReplayCheckUnavailable)
    );
    let unreachable = authorizer(&[
        ("AUTH_REPLAY_TABLE", "replay"),
        ("AUTH_TABLE_TIMEOUT_MS", "300"),
    ])
    .with_dynamodb(dynamodb::client("http://127.0.0.1:9"));
    let started = std::time::Instant::now();
    assert_eq!(
        decide(&unreachable, &fresh_event, now).await,
        expected(Reason::ReplayCheckUnavailable)
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let no_client = authorizer(&[("AUTH_REPLAY_TABLE", "replay")]);
    assert_eq!(
        decide(&no_client, &fresh_event, now).await,
        expected(Reason::ReplayCheckUnavailable)
    );
}

/// Opaque tokens whose introspection answer has `cnf.jkt` (RFC 9449 §6.2) pass the same checks.
#[tokio::test]
async fn rfc9449_introspected_tokens_with_cnf_jkt_need_their_proof() {
    let server = support::TestServer::start().await;
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let answer: Value = json!({"active": true, "client_id": "products-api", "scope": "read:products",
        "token_type": "DPoP", "cnf": {"jkt": key.thumbprint}, "exp": now + 600});
    server.set("/introspect", support::Reply::Json(answer.to_string()));
    let introspect = server.url("/introspect");
    let vars = [
        ("AUTH_INTROSPECTION_CLIENT_ID", "authorizer"),
        ("AUTH_INTROSPECTION_CLIENT_SECRET", "secret"),
        ("AUTH_INTROSPECTION_URL", introspect.as_str()),
    ];
    let authorizer = authorizer(&vars);
    let opaque = "opaque-token-bound-by-dpop";
    let proof = key.proof(opaque, "GET", &rest_url("/products"), now, json!({}));
    let with_proof = event(
        Format::Rest,
        "GET",
        "/products",
        &Carried::dpop(opaque, &proof),
    );
    assert_eq!(
        decide(&authorizer, &with_proof, now).await,
        expected(Reason::Granted)
    );
    let other_key = ProofKey::generate(Algorithm::ES256);
    let foreign = other_key.proof(opaque, "GET", &rest_url("/products"), now, json!({}));
    let with_foreign = event(
        Format::HttpV2,
        "GET",
        "/products",
        &Carried::dpop(opaque, &foreign),
    );
    assert_eq!(
        decide(&authorizer, &with_foreign, now).await,
        expected(Reason::DpopKeyMismatch)
    );
    let as_bearer = event(Format::HttpV1, "GET", "/products", &Carried::bearer(opaque));
    assert_eq!(
        decide(&authorizer, &as_bearer, now).await,
        expected(Reason::DpopBoundAsBearer)
    );
}

/// A bound token's proof was checked for this request only, so the policy API Gateway may cache
/// for the token allows this request's ARN and no route pattern: a stolen copy of the token
/// finds no other route open in the cache (SECURITY.md, "Sender-constrained tokens"). The same
/// token's scopes as a bearer token get every permitted route by its pattern.
#[tokio::test]
async fn a_bound_tokens_policy_allows_only_the_request_it_was_proven_for() {
    let now = support::now();
    let path = "/product/usb-c-cable-2m";
    let allowed = |answer: Value| -> Vec<String> {
        let statements = answer["policyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .clone();
        statements
            .iter()
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| match &s["Resource"] {
                Value::Array(list) => list.clone(),
                one => vec![one.clone()],
            })
            .map(|r| r.as_str().unwrap().to_owned())
            .collect()
    };
    let key = ProofKey::generate(Algorithm::ES256);
    let bound = token(now, json!({"cnf": {"jkt": key.thumbprint}}));
    let authorizer = authorizer(&[]);
    for format in [Format::Rest, Format::HttpV1] {
        // One proof per request: a second use would be a replay.
        let proof = key.proof(&bound, "GET", &rest_url(path), now, json!({}));
        let answer = |event: String| {
            let authorizer = &authorizer;
            async move {
                serde_json::to_value(authorizer.answer_json(&event, now).await.unwrap()).unwrap()
            }
        };
        let proven = event(format, "GET", path, &Carried::dpop(&bound, &proof));
        let resources = allowed(answer(proven).await);
        assert_eq!(
            resources,
            [format!(
                "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET{path}"
            )],
            "{format:?}"
        );
        let bearer = token(now, json!({}));
        let plain = event(format, "GET", path, &Carried::bearer(&bearer));
        let resources = allowed(answer(plain).await);
        assert!(
            resources.iter().any(|r| r.ends_with("/GET/product/*")),
            "{resources:?}"
        );
    }
}
