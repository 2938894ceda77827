//! Certificate-bound tokens (RFC 8705) through the whole authorizer, on REST `REQUEST`, HTTP API
//! 1.0 and 2.0 events: certificates and their thumbprints made with Python's cryptography
//! (`tests/fixtures/sender_constrained/make.py`), with the matching, another and no certificate
//! where API Gateway puts the client certificate of a mutual-TLS custom domain.

mod support;

#[path = "support/bound.rs"]
mod bound;

use bound::{
    Carried, FORMATS, Format, ProofKey, authorizer, decide, event, expected, fixture_now,
    fixture_path, fixtures, rest_url, token, token_event,
};
use jsonwebtoken::Algorithm;
use jwt_scopes_api::authorizer::certificate_thumbprint;
use jwt_scopes_api::reason::Reason;
use serde_json::json;

fn certificates() -> (&'static str, &'static str, &'static str) {
    let c = &fixtures()["certificates"];
    (
        c["bound_token"].as_str().unwrap(),
        c["mine"]["pem"].as_str().unwrap(),
        c["theirs"]["pem"].as_str().unwrap(),
    )
}

/// RFC 8705 §3.1: `x5t#S256` is base64url of the SHA-256 of the DER, as cryptography computed.
#[test]
fn rfc8705_thumbprints_agree_with_an_independent_implementation() {
    for name in ["mine", "theirs"] {
        let cert = &fixtures()["certificates"][name];
        assert_eq!(
            certificate_thumbprint(cert["pem"].as_str().unwrap()).as_deref(),
            cert["x5t"].as_str(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn rfc8705_a_bound_token_needs_its_own_certificate_on_every_request_format() {
    let (token, mine, theirs) = certificates();
    for format in FORMATS {
        for (cert, want) in [
            (Some(mine), Reason::Granted),
            (Some(theirs), Reason::CertificateMismatch),
            (None, Reason::CertificateMissing),
            (Some("CERT_CONTENT"), Reason::CertificateMismatch),
        ] {
            let carried = Carried {
                cert,
                ..Carried::bearer(token)
            };
            let event = event(format, "GET", fixture_path(), &carried);
            assert_eq!(
                decide(&authorizer(&[]), &event, fixture_now()).await,
                expected(want),
                "{format:?}, {want}"
            );
        }
    }
}

/// `AUTH_MTLS=required` accepts only certificate-bound tokens; a plain token with a
/// certificate in the event is still refused.
#[tokio::test]
async fn auth_mtls_required_accepts_only_certificate_bound_tokens() {
    let (token, mine, _) = certificates();
    let plain = fixtures()["certificates"]["bearer_token"].as_str().unwrap();
    let required = authorizer(&[("AUTH_MTLS", "required")]);
    for (token, want) in [(token, Reason::Granted), (plain, Reason::MtlsRequired)] {
        let carried = Carried {
            cert: Some(mine),
            ..Carried::bearer(token)
        };
        let event = event(Format::HttpV2, "GET", fixture_path(), &carried);
        assert_eq!(
            decide(&required, &event, fixture_now()).await,
            expected(want)
        );
    }
    let allowed = event(Format::Rest, "GET", fixture_path(), &Carried::bearer(plain));
    assert_eq!(
        decide(&authorizer(&[]), &allowed, fixture_now()).await,
        expected(Reason::Granted),
        "allowed by default"
    );
}

/// A token bound both ways needs both the certificate and the proof.
#[tokio::test]
async fn a_token_bound_to_a_certificate_and_a_dpop_key_needs_both() {
    let (_, mine, theirs) = certificates();
    let now = support::now();
    let key = ProofKey::generate(Algorithm::ES256);
    let x5t = &fixtures()["certificates"]["mine"]["x5t"];
    let both = token(
        now,
        json!({"cnf": {"jkt": key.thumbprint, "x5t#S256": x5t}}),
    );
    for (cert, want) in [
        (Some(mine), Reason::Granted),
        (Some(theirs), Reason::CertificateMismatch),
    ] {
        let proof = key.proof(&both, "GET", &rest_url("/products"), now, json!({}));
        let carried = Carried {
            cert,
            ..Carried::dpop(&both, &proof)
        };
        let event = event(Format::Rest, "GET", "/products", &carried);
        assert_eq!(decide(&authorizer(&[]), &event, now).await, expected(want));
    }
    let without_proof = Carried {
        cert: Some(mine),
        ..Carried::bearer(&both)
    };
    let event = event(Format::HttpV1, "GET", "/products", &without_proof);
    assert_eq!(
        decide(&authorizer(&[]), &event, now).await,
        expected(Reason::DpopBoundAsBearer)
    );
}

/// A `TOKEN` event carries no certificate; a `cnf` we cannot check is refused, not ignored.
#[tokio::test]
async fn token_events_and_unsupported_confirmations_are_refused() {
    let (token_bound, _, _) = certificates();
    let token_only = token_event(&format!("Bearer {token_bound}"), fixture_path());
    assert_eq!(
        decide(&authorizer(&[]), &token_only, fixture_now()).await,
        expected(Reason::BindingNeedsRequestEvent)
    );
    let now = support::now();
    let jwk_bound = token(now, json!({"cnf": {"jwk": {"kty": "EC"}}}));
    let event = event(
        Format::Rest,
        "GET",
        "/products",
        &Carried::bearer(&jwk_bound),
    );
    assert_eq!(
        decide(&authorizer(&[]), &event, now).await,
        expected(Reason::UnsupportedConfirmation)
    );
}
