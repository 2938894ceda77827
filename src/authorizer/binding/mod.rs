//! The binding step: a sender-constrained token is accepted only from the client it was issued
//! to. It runs after the token is verified and before the revocation table is read.
//!
//! - DPoP (RFC 9449): a token whose `cnf.jkt` names a key comes as `Authorization: DPoP <token>`
//!   with one `DPoP` proof signed by that key, for this method and URI, fresh and unused
//!   ([`dpop`]: every check of §4.3, pure; [`replay`]: each proof's `jti` once, in memory and
//!   in `AUTH_REPLAY_TABLE` across the fleet). `AUTH_DPOP`: `allowed` (default; bound tokens
//!   need a proof, bearer tokens still work), `required` (only DPoP-bound tokens) or `off` (the
//!   scheme is no token, bound tokens are refused).
//! - Mutual TLS (RFC 8705): a token whose `cnf["x5t#S256"]` names a certificate is accepted
//!   only with that client certificate in the event ([`mtls`]). `AUTH_MTLS=required` accepts
//!   only certificate-bound tokens.
//!
//! The `htu` of a proof is the URL the client called, which no event carries: `AUTH_PUBLIC_URL`
//! names the API's base URLs, each joined with the path the event gives. Without it no proof
//! can be checked, and every one is refused (`dpop-unconfigured`), said at cold start.
//!
//! A `TOKEN` event carries neither proof nor certificate: a bound token through a `TOKEN`
//! authorizer is refused. Every refusal is 401 with a reason naming the check.

mod dpop;
mod mtls;
mod replay;

pub use dpop::{CheckedProof, Expected, PublicUrls, Window, check_proof, token_hash};
pub use mtls::certificate_thumbprint;

use crate::authorizer::config::{ConfigError, whole_number};
use crate::authorizer::dynamodb::Tables;
use crate::authorizer::event::{EventFormat, Evidence, Proofs, Scheme};
use crate::token::{TokenClaims, TokenError};
use replay::{ReplayTable, SeenProofs};

/// Most proofs remembered in one process: a window's worth at well over a thousand requests a
/// second. Beyond it, once expired proofs are dropped, a proof is refused rather than
/// forgotten.
pub const SEEN_PROOFS: usize = 100_000;

/// Longest `AUTH_DPOP_MAX_AGE_SECONDS` accepted.
pub const MAX_PROOF_AGE_SECS: u64 = 300;

/// `AUTH_DPOP`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DpopMode {
    /// A DPoP-bound token needs a valid proof; bearer tokens still work. Default.
    #[default]
    Allowed,
    /// Only DPoP-bound tokens, each with a valid proof.
    Required,
    /// The `DPoP` scheme is no token and every DPoP-bound token is refused.
    Off,
}

/// `AUTH_MTLS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MtlsMode {
    /// A certificate-bound token needs its certificate; other tokens still work. Default.
    #[default]
    Allowed,
    /// Only certificate-bound tokens, each with its certificate.
    Required,
}

/// The binding settings, read at cold start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingConfig {
    /// `AUTH_DPOP` (default `allowed`).
    pub dpop: DpopMode,
    /// `AUTH_DPOP_MAX_AGE_SECONDS` (default 60): how old a proof's `iat` may be.
    pub max_age_secs: u64,
    /// `AUTH_LEEWAY_SECONDS`, added on both sides of the window.
    pub leeway_secs: u64,
    /// `AUTH_PUBLIC_URL`: the base URLs a proof's `htu` may start with.
    pub public_urls: PublicUrls,
    /// `AUTH_MTLS` (default `allowed`).
    pub mtls: MtlsMode,
}

impl BindingConfig {
    /// Reads `AUTH_DPOP`, `AUTH_DPOP_MAX_AGE_SECONDS`, `AUTH_PUBLIC_URL` and `AUTH_MTLS`
    /// through `lookup`; `leeway_secs` is the tokens' leeway.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        leeway_secs: u64,
    ) -> Result<Self, ConfigError> {
        let error = |variable, problem: String| ConfigError { variable, problem };
        let dpop = match lookup("AUTH_DPOP").as_deref().map(str::trim) {
            None | Some("allowed") => DpopMode::Allowed,
            Some("required") => DpopMode::Required,
            Some("off") => DpopMode::Off,
            Some(other) => {
                let problem = format!("{other:?} is not \"allowed\", \"required\" or \"off\"");
                return Err(error("AUTH_DPOP", problem));
            }
        };
        let mtls = match lookup("AUTH_MTLS").as_deref().map(str::trim) {
            None | Some("allowed") => MtlsMode::Allowed,
            Some("required") => MtlsMode::Required,
            Some(other) => {
                let problem = format!("{other:?} is not \"allowed\" or \"required\"");
                return Err(error("AUTH_MTLS", problem));
            }
        };
        let name = "AUTH_DPOP_MAX_AGE_SECONDS";
        let max_age_secs = whole_number(name, lookup(name))?.unwrap_or(60);
        // RFC 9449 §11.1 asks for a short window; every proof in it is remembered, so a long
        // one fills the replay set.
        if !(1..=MAX_PROOF_AGE_SECS).contains(&max_age_secs) {
            let problem = format!("must be from 1 to {MAX_PROOF_AGE_SECS} seconds");
            return Err(error(name, problem));
        }
        let public_urls = match lookup("AUTH_PUBLIC_URL") {
            None => PublicUrls::default(),
            Some(list) => {
                PublicUrls::parse(&list).map_err(|problem| error("AUTH_PUBLIC_URL", problem))?
            }
        };
        Ok(BindingConfig {
            dpop,
            max_age_secs,
            leeway_secs,
            public_urls,
            mtls,
        })
    }
}

/// How a token was presented: what the binding step checks it against.
#[derive(Clone, Copy)]
pub struct Presented<'a> {
    /// The event format (a `TOKEN` event carries no proof or certificate).
    pub format: EventFormat,
    /// The request's method, for `htm`.
    pub method: &'a str,
    /// The scheme, proofs, path and certificate the event carries.
    pub evidence: &'a Evidence,
}

/// The binding step, built once per cold start: its settings and the proofs seen.
pub struct Binding {
    config: BindingConfig,
    seen: SeenProofs,
    table: Option<ReplayTable>,
}

impl Binding {
    /// The step for `config`, remembering proofs in `replay_table` too when one is named. Says
    /// at cold start when DPoP proofs cannot be checked for want of `AUTH_PUBLIC_URL`.
    pub fn new(config: BindingConfig, replay_table: Option<String>) -> Self {
        if config.dpop != DpopMode::Off && config.public_urls.is_empty() {
            tracing::warn!(
                "AUTH_PUBLIC_URL is not set: every DPoP proof will be refused (dpop-unconfigured); \
                 set it to the API's base URLs, or AUTH_DPOP=off"
            );
        }
        Binding {
            config,
            seen: SeenProofs::new(SEEN_PROOFS),
            table: replay_table.map(ReplayTable::new),
        }
    }

    /// Whether `token`, as `presented`, may be used by this presenter at `now`: its `cnf`
    /// (`claims`, verified) against the proof or the certificate, and the modes. A fresh proof
    /// is remembered, through `tables` too when a replay table is configured.
    pub async fn check(
        &self,
        tables: Option<&Tables>,
        presented: &Presented<'_>,
        token: &str,
        claims: &TokenClaims,
        now: u64,
    ) -> Result<(), TokenError> {
        let Presented {
            format,
            method,
            evidence,
        } = *presented;
        let cnf = claims.cnf.as_ref();
        let jkt = cnf.and_then(|c| c.jkt.as_deref());
        let x5t = cnf.and_then(|c| c.x5t_s256.as_deref());
        if cnf.is_some() && jkt.is_none() && x5t.is_none() {
            return Err(TokenError::UnsupportedConfirmation);
        }
        let dpop = evidence.scheme == Scheme::DPoP;
        if format == EventFormat::Token && (jkt.is_some() || x5t.is_some() || dpop) {
            return Err(TokenError::BindingNeedsRequestEvent);
        }
        match x5t {
            Some(x5t) => mtls::check(evidence.client_cert.as_deref(), x5t)?,
            None if self.config.mtls == MtlsMode::Required => {
                return Err(TokenError::MtlsRequired);
            }
            None => {}
        }
        match (self.config.dpop, jkt) {
            (DpopMode::Off, Some(_)) => return Err(TokenError::DpopOff),
            (DpopMode::Required, None) => return Err(TokenError::DpopRequired),
            (_, Some(_)) if !dpop => return Err(TokenError::DpopBoundAsBearer),
            _ if !dpop => return Ok(()),
            _ => {}
        }
        let proof = match &evidence.proofs {
            Proofs::None => return Err(TokenError::DpopProofMissing),
            Proofs::Several => return Err(TokenError::DpopProofMultiple),
            Proofs::One(proof) => proof,
        };
        let window = dpop::Window {
            max_age: self.config.max_age_secs,
            leeway: self.config.leeway_secs,
        };
        let expected = dpop::Expected {
            urls: &self.config.public_urls,
            method,
            path: evidence.path.as_deref(),
            token: Some(token),
            jkt,
        };
        let checked = check_proof(proof, &expected, window, now)?;
        let key = replay::key(&checked);
        let until = window.until(checked.iat);
        if !self.seen.first_use(key, until, now)? {
            return Err(TokenError::DpopReplayed);
        }
        match &self.table {
            Some(table) => table.first_use(tables, &key, until).await,
            None => Ok(()),
        }
    }
}
