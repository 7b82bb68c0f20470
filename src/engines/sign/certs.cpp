// Keyless verification: certificates and trusted roots (certs.hpp).
#include "engines/sign/certs.hpp"

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <regex>

#include "core/base64.hpp"
#include "core/clock.hpp"
#include "core/document.hpp"
#include "engines/sign/json_read.hpp"

namespace kg::sign {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// Fulcio's OIDC issuer: v2 (a DER UTF8String) and the deprecated v1 (the raw bytes).
constexpr const char* kIssuerV2Oid = "1.3.6.1.4.1.57264.1.8";
constexpr const char* kIssuerV1Oid = "1.3.6.1.4.1.57264.1.1";
// Certificates and chains are a few KiB; a chain of more is not a Fulcio one.
constexpr std::size_t kMaxChain = 10;

X509Ptr parse_der(const std::string& der, const std::string& where) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    throw SignError(where + ": not a DER X.509 certificate");
  return x;
}

std::int64_t asn1_seconds(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

std::string ia5(const ASN1_IA5STRING* s) {
  return s ? std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)))
           : std::string();
}

std::string extension_bytes(X509* x, const char* oid) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  if (!obj) return "";
  const int at = X509_get_ext_by_OBJ(x, obj, -1);
  ASN1_OBJECT_free(obj);
  if (at < 0) return "";
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(x, at));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)), static_cast<std::size_t>(ASN1_STRING_length(data)));
}

std::string issuer_of(X509* x) {
  std::string v2 = extension_bytes(x, kIssuerV2Oid);
  if (!v2.empty()) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(v2.data());
    ASN1_UTF8STRING* s = d2i_ASN1_UTF8STRING(nullptr, &p, static_cast<long>(v2.size()));
    if (s) {
      std::string out(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), static_cast<std::size_t>(ASN1_STRING_length(s)));
      ASN1_UTF8STRING_free(s);
      return out;
    }
  }
  return extension_bytes(x, kIssuerV1Oid);
}

CertificateInfo info_of(X509* x) {
  CertificateInfo info;
  if (auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
      if (n->type == GEN_EMAIL) info.emails.push_back(ia5(n->d.rfc822Name));
      else if (n->type == GEN_URI) info.uris.push_back(ia5(n->d.uniformResourceIdentifier));
    }
    GENERAL_NAMES_free(names);
  }
  info.issuer = issuer_of(x);
  if (X509_NAME* subject = X509_get_subject_name(x)) {
    if (char* line = X509_NAME_oneline(subject, nullptr, 0)) {
      info.subject = line;
      OPENSSL_free(line);
    }
  }
  // X509_get_extension_flags caches the parsed extensions (EKU, basic constraints).
  const uint32_t flags = X509_get_extension_flags(x);
  info.code_signing = (flags & EXFLAG_XKUSAGE) && (X509_get_extended_key_usage(x) & XKU_CODE_SIGN);
  info.is_ca = (flags & EXFLAG_CA) != 0;
  info.not_before = asn1_seconds(X509_get0_notBefore(x));
  info.not_after = asn1_seconds(X509_get0_notAfter(x));
  return info;
}

std::string public_key_der(X509* x) {
  EVP_PKEY* pk = X509_get0_pubkey(x);
  unsigned char* buf = nullptr;
  const int n = pk ? i2d_PUBKEY(pk, &buf) : -1;
  if (n <= 0) throw SignError("the certificate has no usable public key");
  std::string der(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
  OPENSSL_free(buf);
  return der;
}

bool self_signed(X509* x) { return X509_check_issued(x, x) == X509_V_OK; }

bool matches(const std::string& exact, const std::string& expression, const std::string& value, const char* what) {
  if (!exact.empty()) return value == exact;
  if (expression.empty()) return true;
  try {
    return std::regex_search(value, std::regex(expression, std::regex::ECMAScript));
  } catch (const std::regex_error&) {
    throw SignError(std::string("--certificate-") + what + "-regexp: not a regular expression: " + expression);
  }
}

}  // namespace

std::vector<std::string> pem_certificates(const std::string& pem, const std::string& where) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (true) {
    const std::size_t begin = pem.find("-----BEGIN CERTIFICATE-----", from);
    if (begin == std::string::npos) break;
    const std::size_t end = pem.find("-----END CERTIFICATE-----", begin);
    if (end == std::string::npos) throw SignError(where + ": a CERTIFICATE block has no END line");
    const std::size_t stop = end + 25;
    out.push_back(pem_decode(pem.substr(begin, stop - begin), "CERTIFICATE", where));
    parse_der(out.back(), where + ": certificate " + std::to_string(out.size()));
    from = stop;
    if (out.size() > kMaxChain) throw SignError(where + ": more than " + std::to_string(kMaxChain) + " certificates");
  }
  if (out.empty()) throw SignError(where + ": no PEM CERTIFICATE in it");
  return out;
}

CertificateAuthority authority_from_chain(const std::string& pem, const std::string& where) {
  CertificateAuthority ca;
  ca.name = where;
  std::vector<std::string> certs = pem_certificates(pem, where);
  X509Ptr last = parse_der(certs.back(), where);
  if (!self_signed(last.get())) throw SignError(where + ": the chain must end with its (self-signed) root certificate");
  ca.roots.push_back(certs.back());
  certs.pop_back();
  ca.intermediates = std::move(certs);
  return ca;
}

static void read_authorities(const Node* list, const std::string& field, const std::string& where,
                      std::vector<CertificateAuthority>& out);

TrustedRoot parse_trusted_root(const std::string& text, const std::string& where) {
  auto doc = json::parse(text, where);
  TrustedRoot root;
  const Node* media = get(doc->root, "mediaType");
  if (media && str(media).rfind("application/vnd.dev.sigstore.trustedroot", 0) != 0)
    throw SignError(json::at(where, media) + ": mediaType \"" + std::string(str(media)) + "\" is not a Sigstore trusted root");
  const Node* cas = get(doc->root, "certificateAuthorities");
  if (cas && !cas->is_seq()) throw SignError(json::at(where, cas) + ": certificateAuthorities is not a list");
  read_authorities(cas, "certificateAuthorities", where, root.authorities);
  const Node* tsas = get(doc->root, "timestampAuthorities");
  if (tsas && !tsas->is_seq()) throw SignError(json::at(where, tsas) + ": timestampAuthorities is not a list");
  read_authorities(tsas, "timestampAuthorities", where, root.timestamp_authorities);
  return root;
}

static void read_authorities(const Node* list, const std::string& field, const std::string& where,
                      std::vector<CertificateAuthority>& out) {
  std::size_t index = 0;
  for (const Node* n : items(list)) {
    const std::string path = field + "[" + std::to_string(index++) + "]";
    if (!n->is_map()) throw SignError(json::at(where, n) + ": " + path + " is not an object");
    CertificateAuthority ca;
    ca.name = std::string(str(get(n, "uri")));
    const Node* certs = get(get(n, "certChain"), "certificates");
    if (!certs || !certs->is_seq() || items(certs).empty())
      throw SignError(json::at(where, certs ? certs : n) + ": " + path + ".certChain.certificates is not a list of certificates");
    if (items(certs).size() > kMaxChain) throw SignError(json::at(where, certs) + ": " + path + ": too many certificates");
    std::vector<std::string> chain;
    for (const Node* c : items(certs)) {
      const std::string raw = json::need(c, "rawBytes", where, path + ".certChain.certificates[].rawBytes");
      auto der = base64_decode(raw);
      if (!der) throw SignError(json::at(where, c) + ": " + path + ": rawBytes is not base64");
      parse_der(*der, json::at(where, c) + ": " + path);
      chain.push_back(std::move(*der));
    }
    ca.roots.push_back(chain.back());
    chain.pop_back();
    ca.intermediates = std::move(chain);
    if (const Node* valid = get(n, "validFor")) {
      auto bound = [&](const char* key, std::int64_t& into) {
        const Node* t = get(valid, key);
        if (!t) return;
        long long s = utc_epoch_seconds(str(t));
        if (s == 0) throw SignError(json::at(where, t) + ": " + path + ".validFor." + key + " is not an RFC 3339 time");
        into = s;
      };
      bound("start", ca.valid_from);
      bound("end", ca.valid_to);
    }
    if (ca.name.empty()) ca.name = path;
    out.push_back(std::move(ca));
  }
}

CertificateInfo read_certificate(const std::string& der, const std::string& where) {
  X509Ptr x = parse_der(der, where);
  return info_of(x.get());
}

std::int64_t verify_timestamp(const std::string& der, const std::string& signed_bytes,
                              const std::vector<CertificateAuthority>& authorities) {
  if (der.empty()) throw SignError("no RFC 3161 timestamp");
  // A TimeStampResp (cosign's legacy annotation), else the bare token (a bundle's signedTimestamp).
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<TS_RESP, decltype(&TS_RESP_free)> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(der.size())),
                                                        TS_RESP_free);
  std::unique_ptr<PKCS7, decltype(&PKCS7_free)> token(nullptr, PKCS7_free);
  if (!resp || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    resp.reset();
    p = reinterpret_cast<const unsigned char*>(der.data());
    token.reset(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())));
    if (!token || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
      throw SignError("the RFC 3161 timestamp is neither a DER TimeStampResp nor a TimeStampToken");
  }
  TS_TST_INFO* info = resp ? TS_RESP_get_tst_info(resp.get()) : nullptr;
  std::unique_ptr<TS_TST_INFO, decltype(&TS_TST_INFO_free)> owned_info(nullptr, TS_TST_INFO_free);
  if (token) {
    owned_info.reset(PKCS7_to_TS_TST_INFO(token.get()));
    info = owned_info.get();
  }
  if (!info) throw SignError("the RFC 3161 timestamp carries no TSTInfo (not granted?)");
  const std::int64_t at = asn1_seconds(TS_TST_INFO_get_time(info));
  if (at == 0) throw SignError("the RFC 3161 timestamp has no readable genTime");
  // The context owns what it is given: the store, the intermediates and the data.
  std::unique_ptr<TS_VERIFY_CTX, decltype(&TS_VERIFY_CTX_free)> ctx(TS_VERIFY_CTX_new(), TS_VERIFY_CTX_free);
  X509_STORE* store = X509_STORE_new();
  STACK_OF(X509)* certs = sk_X509_new_null();
  BIO* data = BIO_new_mem_buf(signed_bytes.data(), static_cast<int>(signed_bytes.size()));
  if (!ctx || !store || !certs || !data) {
    X509_STORE_free(store);
    sk_X509_free(certs);
    BIO_free(data);
    throw SignError("out of memory");
  }
  TS_VERIFY_CTX_set_store(ctx.get(), store);
  TS_VERIFY_CTX_set_certs(ctx.get(), certs);
  TS_VERIFY_CTX_set_data(ctx.get(), data);
  TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_DATA);
  std::size_t anchors = 0;
  for (const CertificateAuthority& ca : authorities) {
    if (at < ca.valid_from || at > ca.valid_to) continue;
    for (const std::string& c : ca.roots) {
      X509Ptr x = parse_der(c, ca.name);
      X509_STORE_add_cert(store, x.get());
      ++anchors;
    }
    for (const std::string& c : ca.intermediates) sk_X509_push(certs, parse_der(c, ca.name).release());
  }
  if (anchors == 0) throw SignError("no time-stamping authority of the trusted root is valid at the timestamp's time");
  X509_STORE_set_flags(store, X509_V_FLAG_USE_CHECK_TIME);
  X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store), static_cast<time_t>(at));
  const int ok = resp ? TS_RESP_verify_response(ctx.get(), resp.get()) : TS_RESP_verify_token(ctx.get(), token.get());
  if (ok != 1) {
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    throw SignError(std::string("the RFC 3161 timestamp does not verify") + (buf[0] ? std::string(": ") + buf : ""));
  }
  return at;
}

bool certificate_matches_key(const std::string& cert_der, const PublicKey& key) {
  X509Ptr x = parse_der(cert_der, "certificate");
  return public_key_der(x.get()) == key.der();
}

VerifiedCertificate verify_certificate(const std::string& leaf_der, const std::vector<std::string>& chain,
                                       const TrustedRoot& root, const IdentityPolicy& policy, std::int64_t at) {
  X509Ptr leaf = parse_der(leaf_der, "the signing certificate");
  std::vector<X509Ptr> held;  // keeps the stack's certificates alive
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(sk_X509_new_null(),
                                                                     [](STACK_OF(X509)* s) { sk_X509_free(s); });
  if (!store || !untrusted) throw SignError("out of memory");
  std::size_t anchors = 0;
  for (const CertificateAuthority& ca : root.authorities) {
    // An authority counts only for certificates issued in its time (Fulcio's roots rotate).
    if (at < ca.valid_from || at > ca.valid_to) continue;
    for (const std::string& der : ca.roots) {
      X509Ptr x = parse_der(der, ca.name);
      X509_STORE_add_cert(store.get(), x.get());
      ++anchors;
    }
    for (const std::string& der : ca.intermediates) {
      held.push_back(parse_der(der, ca.name));
      sk_X509_push(untrusted.get(), held.back().get());
    }
  }
  if (anchors == 0) throw SignError("no certificate authority of the trusted root is valid at the signing time");
  if (chain.size() > kMaxChain) throw SignError("the signature's certificate chain is too long");
  for (const std::string& der : chain) {
    held.push_back(parse_der(der, "the signature's certificate chain"));
    sk_X509_push(untrusted.get(), held.back().get());
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1)
    throw SignError("cannot set up certificate verification");
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(at));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    throw SignError(std::string("the signing certificate does not verify against the trusted root: ") +
                    X509_verify_cert_error_string(err));
  }
  CertificateInfo info = info_of(leaf.get());
  if (!info.code_signing) throw SignError("the signing certificate is not for code signing (extended key usage)");
  if (info.is_ca) throw SignError("the signing certificate is a CA certificate");
  // cosign's identity: any SAN (email or URI) equal to --certificate-identity, or matching the expression.
  std::string identity;
  std::vector<std::string> names = info.emails;
  names.insert(names.end(), info.uris.begin(), info.uris.end());
  for (const std::string& n : names)
    if (identity.empty() && matches(policy.identity, policy.identity_regexp, n, "identity")) identity = n;
  if (identity.empty()) {
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    throw SignError("the certificate's identity (" + (list.empty() ? std::string("no email or URI SAN") : list) +
                    ") is not " + (policy.identity.empty() ? "matched by " + policy.identity_regexp : policy.identity));
  }
  if (!matches(policy.issuer, policy.issuer_regexp, info.issuer, "oidc-issuer")) {
    throw SignError("the certificate's OIDC issuer (" + (info.issuer.empty() ? std::string("none") : info.issuer) +
                    ") is not " + (policy.issuer.empty() ? "matched by " + policy.issuer_regexp : policy.issuer));
  }
  return VerifiedCertificate{PublicKey::from_der(public_key_der(leaf.get()), "the signing certificate's key"),
                             std::move(info), std::move(identity)};
}

}  // namespace kg::sign
