//! Certificate-bound tokens (RFC 8705 §3): the client certificate API Gateway passes on from a
//! mutual-TLS custom domain must be the one the token's `cnf["x5t#S256"]` names. Pure.

use crate::token::TokenError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// The RFC 8705 §3.1 thumbprint of a PEM certificate: base64url (not hex) of the SHA-256 of its
/// DER; `None` when `pem` holds no certificate.
pub fn certificate_thumbprint(pem: &str) -> Option<String> {
    let der = CertificateDer::from_pem_slice(pem.as_bytes()).ok()?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der.as_ref());
    Some(URL_SAFE_NO_PAD.encode(digest))
}

/// Accepts a token bound to `x5t` when `pem`, the event's client certificate, is that one.
pub fn check(pem: Option<&str>, x5t: &str) -> Result<(), TokenError> {
    let pem = pem
        .filter(|p| !p.trim().is_empty())
        .ok_or(TokenError::CertificateMissing)?;
    match certificate_thumbprint(pem) {
        Some(thumbprint) if thumbprint == x5t => Ok(()),
        _ => Err(TokenError::CertificateMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8705_a_certificate_is_named_by_its_der_hash_in_base64url() {
        let der = [0x30, 0x03, 0x02, 0x01, 0x01];
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        );
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
        let x5t = URL_SAFE_NO_PAD.encode(digest);
        assert_eq!(certificate_thumbprint(&pem).as_deref(), Some(x5t.as_str()));
        assert_eq!(check(Some(&pem), &x5t), Ok(()));
        let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            check(Some(&pem), &hex),
            Err(TokenError::CertificateMismatch)
        );
        assert_eq!(check(None, &x5t), Err(TokenError::CertificateMissing));
        assert_eq!(check(Some(" "), &x5t), Err(TokenError::CertificateMissing));
        assert_eq!(
            check(Some("CERT_CONTENT"), &x5t),
            Err(TokenError::CertificateMismatch)
        );
    }
}
