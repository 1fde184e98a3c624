// A throwaway key pair for unit tests only (self-signed, example.com and *.example.com, valid
// for a century): translation checks that a TLS Secret really holds a usable pair, so the test
// Secrets must hold real PEM. Made with:
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500
//     -subj /CN=example.com -addext subjectAltName=DNS:example.com,DNS:*.example.com
// (one command; no line-continuation backslash here, GCC's -Wcomment rejects it under -Werror)
#pragma once

namespace pier::testdata {

inline constexpr const char kCertificatePem[] = R"PEM(-----BEGIN CERTIFICATE-----
MIIBqTCCAVCgAwIBAgIUD0DJurE1NIOv0KoroQV8qreBBkMwCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLZXhhbXBsZS5jb20wIBcNMjYxMTI1MTYyMzM4WhgPMjEyNjEx
MDExNjIzMzhaMBYxFDASBgNVBAMMC2V4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEli8vn4JxcbJo10B56xNtBLEDDGcSl5sntkHNg+sAlUAEylpt
yMYUm0eGf+3eQtQrNylFNXQNIsyLY7Z5k39lMKN6MHgwHQYDVR0OBBYEFGxtJH5Y
0SDKK4ifvDbEVCZhAqGkMB8GA1UdIwQYMBaAFGxtJH5Y0SDKK4ifvDbEVCZhAqGk
MA8GA1UdEwEB/wQFMAMBAf8wJQYDVR0RBB4wHIILZXhhbXBsZS5jb22CDSouZXhh
bXBsZS5jb20wCgYIKoZIzj0EAwIDRwAwRAIgUP0v/mSSGL2X0OMaHwiBg6+gnozA
PmE/NCmZd+srJGwCIDxTzMALTkgmTFGIW6+v3l0FGXFzuDHH6A5UslS/9/4L
-----END CERTIFICATE-----
)PEM";

inline constexpr const char kPrivateKeyPem[] = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+J1OnKdbT8KEl0pt
qbfUtSpXUXMLN84t8ZVrZ9fDbjWhRANCAASWLy+fgnFxsmjXQHnrE20EsQMMZxKX
mye2Qc2D6wCVQATKWm3IxhSbR4Z/7d5C1Cs3KUU1dA0izItjtnmTf2Uw
-----END PRIVATE KEY-----
)PEM";

// A key that does not belong to kCertificatePem.
inline constexpr const char kOtherPrivateKeyPem[] = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgaKEw3tQIIU2ml8x2
qIGukWbO9nveDdryYq7ns/YM45ahRANCAASAOcNNeF6b33DXGKR+FdsVB9PBBDfc
g3TMIvVY8Q6+k/cgkCHt05sRdLNBUrDT2+WD13Qjl/v+6hgS51OMajBv
-----END PRIVATE KEY-----
)PEM";

// A second, unrelated pair (CN second.example.com, made the same way): a Secret's content
// "before" and "after" an update must be told apart.
inline constexpr const char kSecondCertificatePem[] = R"PEM(-----BEGIN CERTIFICATE-----
MIIBsTCCAVagAwIBAgIUIDCSwZdtopPOH2B4ga5mWE1zS5kwCgYIKoZIzj0EAwIw
HTEbMBkGA1UEAwwSc2Vjb25kLmV4YW1wbGUuY29tMCAXDTI2MTEyNTE4MDQxOFoY
DzIxMjYxMTAxMTgwNDE4WjAdMRswGQYDVQQDDBJzZWNvbmQuZXhhbXBsZS5jb20w
WTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARUf6UIUuobLHv5aq6guPpSg3o3qA+0
AEr2SVpg0MBxTY6oFsDZ13LWWxgBOd5GmQ4pheRGy0WpQzdk8VtvT86mo3IwcDAd
BgNVHQ4EFgQUcNMfWdsjbfx7pJQv31u3CfpWAmIwHwYDVR0jBBgwFoAUcNMfWdsj
bfx7pJQv31u3CfpWAmIwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHREEFjAUghJzZWNv
bmQuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDSQAwRgIhANbRekYK/rZa6/e3Ly5o
i/UHO7IHD5QusSuq+j8fRekPAiEAjwgWLzvEiy2NPbRO/5RWSi+ekTbufsHt/9Ge
6FbRLsk=
-----END CERTIFICATE-----
)PEM";

inline constexpr const char kSecondPrivateKeyPem[] = R"PEM(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgGdl3wvsepXiOnenv
3pfmZHSe3mbiNumQD9lpnORzwiahRANCAARUf6UIUuobLHv5aq6guPpSg3o3qA+0
AEr2SVpg0MBxTY6oFsDZ13LWWxgBOd5GmQ4pheRGy0WpQzdk8VtvT86m
-----END PRIVATE KEY-----
)PEM";

// A CRL of the certificate above, revoking nothing, valid for a century. Made with
//   openssl ca -gencrl -keyfile key.pem -cert cert.pem (a config with default_crl_days = 36500)
inline constexpr const char kCrlPem[] = R"PEM(-----BEGIN X509 CRL-----
MIGvMFcCAQEwCgYIKoZIzj0EAwIwFjEUMBIGA1UEAwwLZXhhbXBsZS5jb20XDTI2
MTEyOTA2NDczN1oYDzIxMjYxMTA1MDY0NzM3WqAOMAwwCgYDVR0UBAMCAQEwCgYI
KoZIzj0EAwIDSAAwRQIhAP3cd0KcSjqZ0HoAsnw7JJaSRk/T1/AF9M8zyxsAW30d
AiB5IWmRTrDcYdXJtz8TycSv9wTatymoQLMg5+gMEEmljg==
-----END X509 CRL-----
)PEM";

}  // namespace pier::testdata
