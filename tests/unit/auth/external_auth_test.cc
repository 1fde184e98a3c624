// auth-url on the dataplane: what a snapshot may carry, the request the auth service gets, and
// where auth-signin sends a client.
#include "auth/external_auth.h"

#include <gtest/gtest.h>

namespace pier::dataplane::external_auth {
namespace {

namespace bhttp = boost::beast::http;

pier::v1::ExternalAuth Proto(std::string url) {
  pier::v1::ExternalAuth proto;
  proto.set_url(std::move(url));
  return proto;
}

std::shared_ptr<const Settings> Compiled(const pier::v1::ExternalAuth& proto) {
  auto settings = Settings::Compile(proto);
  EXPECT_TRUE(settings.ok()) << settings.error();
  return settings.ok() ? *settings : nullptr;
}

TEST(ExternalAuthSettings, DefaultsAndTheHostHeader) {
  auto settings = Compiled(Proto("http://auth.svc/check"));
  ASSERT_NE(settings, nullptr);
  EXPECT_FALSE(settings->https);
  EXPECT_EQ(settings->host, "auth.svc");
  EXPECT_EQ(settings->port, 80);
  EXPECT_EQ(settings->host_header, "auth.svc");
  EXPECT_EQ(settings->method, "GET");
  EXPECT_EQ(settings->signin_redirect_param, "rd");
  EXPECT_TRUE(settings->signin.empty());
  EXPECT_EQ(Compiled(Proto("https://[fd00::1]:8443/"))->host_header, "[fd00::1]:8443");
  EXPECT_EQ(Compiled(Proto("https://auth.example:443/"))->host_header, "auth.example");
}

TEST(ExternalAuthSettings, ASnapshotWithAnUnusableCheckIsRefused) {
  std::vector<pier::v1::ExternalAuth> bad;
  for (const char* url : {"", "auth/check", "http://$host/check", "http://auth/$remote_addr", "http://a b/"}) {
    bad.push_back(Proto(url));
  }
  bad.push_back(Proto("http://auth/"));
  bad.back().set_method("get");
  bad.push_back(Proto("http://auth/"));
  bad.back().add_response_headers("content-length");
  bad.push_back(Proto("http://auth/"));
  bad.back().add_response_headers("X-Upper");
  bad.push_back(Proto("http://auth/"));
  bad.back().set_signin_url("/relative");
  bad.push_back(Proto("http://auth/"));
  bad.back().set_signin_redirect_param("r&d");
  bad.push_back(Proto("http://auth/"));
  bad.back().set_request_redirect("$uri");
  for (const auto& proto : bad) EXPECT_FALSE(Settings::Compile(proto).ok()) << proto.ShortDebugString();
}

TEST(ExternalAuthRequest, TheClientsHeadersAndWhatPierSetsInstead) {
  auto proto = Proto("http://auth.svc:4180/check?uri=$escaped_request_uri&h=$host");
  auto settings = Compiled(proto);
  ASSERT_NE(settings, nullptr);
  bhttp::fields client;
  client.set(bhttp::field::host, "App.Example:8080");
  client.set(bhttp::field::cookie, "session=abc");
  client.set(bhttp::field::authorization, "Bearer t");
  client.set(bhttp::field::content_length, "10");
  client.set("X-Original-URL", "http://spoofed/");
  client.set("X-Forwarded-For", "6.6.6.6");
  client.set("X-Request-ID", "client-chosen");
  Request request;
  request.headers = &client;
  request.method = "POST";
  request.host = "app.example";
  request.http_host = "App.Example:8080";
  request.scheme = "https";
  request.request_uri = "/a?b=1";
  request.client_address = "10.1.2.3";
  request.request_id = "abc123";
  const AuthRequestHead head = MakeRequest(*settings, request);
  EXPECT_EQ(head.method, "GET");
  EXPECT_EQ(head.target, "/check?uri=%2Fa%3Fb%3D1&h=app.example");
  EXPECT_EQ(head.fields[bhttp::field::host], "auth.svc:4180");
  EXPECT_EQ(head.fields[bhttp::field::cookie], "session=abc");
  EXPECT_EQ(head.fields[bhttp::field::authorization], "Bearer t");
  EXPECT_EQ(head.fields.count(bhttp::field::content_length), 0u);
  EXPECT_EQ(head.fields["X-Original-URL"], "https://App.Example:8080/a?b=1");
  EXPECT_EQ(head.fields["X-Original-Method"], "POST");
  EXPECT_EQ(head.fields["X-Sent-From"], "pier");
  EXPECT_EQ(head.fields["X-Real-IP"], "10.1.2.3");
  EXPECT_EQ(head.fields.count("X-Forwarded-For"), 1u);
  EXPECT_EQ(head.fields["X-Forwarded-For"], "10.1.2.3");
  EXPECT_EQ(head.fields["X-Forwarded-Proto"], "https");
  EXPECT_EQ(head.fields["X-Forwarded-Host"], "App.Example:8080");
  EXPECT_EQ(head.fields["X-Auth-Request-Redirect"], "/a?b=1");
  EXPECT_EQ(head.fields.count("X-Request-ID"), 1u);
  EXPECT_EQ(head.fields["X-Request-ID"], "abc123");
  EXPECT_EQ(head.fields[bhttp::field::connection], "close");

  proto.set_method("POST");
  proto.set_request_redirect("$scheme://$http_host$request_uri");
  settings = Compiled(proto);
  const AuthRequestHead custom = MakeRequest(*settings, request);
  EXPECT_EQ(custom.method, "POST");
  EXPECT_EQ(custom.fields["X-Auth-Request-Redirect"], "https://App.Example:8080/a?b=1");

  // auth-keepalive: no Connection: close, the service may keep the connection open.
  proto.set_keepalive_connections(4);
  settings = Compiled(proto);
  EXPECT_EQ(MakeRequest(*settings, request).fields.count(bhttp::field::connection), 0u);
}

TEST(ExternalAuthSettings, KeepaliveDefaultsAndThePoolKey) {
  auto proto = Proto("https://auth.svc:8443/check?h=$host");
  auto off = Compiled(proto);
  ASSERT_NE(off, nullptr);
  EXPECT_EQ(off->keepalive_connections, 0u);
  proto.set_keepalive_connections(3);
  auto defaults = Compiled(proto);
  EXPECT_EQ(defaults->keepalive_connections, 3u);
  EXPECT_EQ(defaults->keepalive_requests, 1000u);
  EXPECT_EQ(defaults->keepalive_timeout, std::chrono::seconds(60));
  proto.set_keepalive_requests(7);
  proto.set_keepalive_timeout_ms(1500);
  auto set = Compiled(proto);
  EXPECT_EQ(set->keepalive_requests, 7u);
  EXPECT_EQ(set->keepalive_timeout, std::chrono::milliseconds(1500));
  // Routes to the same service share connections whatever their paths; another scheme or port
  // never does.
  EXPECT_EQ(set->pool_key, Compiled(Proto("https://auth.svc:8443/other"))->pool_key);
  EXPECT_NE(set->pool_key, Compiled(Proto("http://auth.svc:8443/check"))->pool_key);
  EXPECT_NE(set->pool_key, Compiled(Proto("https://auth.svc:9443/check"))->pool_key);
}

TEST(ExternalAuthRequest, OnAClientCertificateHostTheServiceGetsPiersSslClientFields) {
  auto settings = Compiled(Proto("http://auth.svc/check"));
  ASSERT_NE(settings, nullptr);
  bhttp::fields client;
  client.set("SSL-Client-Verify", "SUCCESS");
  client.set("ssl-client-subject-dn", "CN=forged");
  client.set("ssl-client-other", "kept");
  Request request;
  request.headers = &client;
  request.method = "GET";
  request.host = "app.example";
  request.http_host = "app.example";
  request.scheme = "https";
  request.request_uri = "/";
  // Another host: the fields are the client's, like any other header.
  EXPECT_EQ(MakeRequest(*settings, request).fields["ssl-client-verify"], "SUCCESS");

  const std::string fields = "ssl-client-verify: NONE\r\n";
  request.client_certificate = &fields;
  const AuthRequestHead head = MakeRequest(*settings, request);
  EXPECT_EQ(head.fields.count("ssl-client-verify"), 1u);
  EXPECT_EQ(head.fields["ssl-client-verify"], "NONE");
  EXPECT_EQ(head.fields.count("ssl-client-subject-dn"), 0u);
  EXPECT_EQ(head.fields["ssl-client-other"], "kept");

  const std::string verified =
      "ssl-client-verify: SUCCESS\r\nssl-client-subject-dn: CN=alice,O=Pier Test\r\n"
      "ssl-client-issuer-dn: CN=Client CA\r\n";
  request.client_certificate = &verified;
  const AuthRequestHead with_certificate = MakeRequest(*settings, request);
  EXPECT_EQ(with_certificate.fields["ssl-client-verify"], "SUCCESS");
  EXPECT_EQ(with_certificate.fields["ssl-client-subject-dn"], "CN=alice,O=Pier Test");
  EXPECT_EQ(with_certificate.fields["ssl-client-issuer-dn"], "CN=Client CA");
}

TEST(ExternalAuthSignin, TheRequestsUrlIsAddedUnlessTheParameterIsThere) {
  const url_template::Values values{"app.example", "app.example", "https", "/a?b=1"};
  auto proto = Proto("http://auth/");
  proto.set_signin_url("https://$host/oauth2/start");
  EXPECT_EQ(SigninLocation(*Compiled(proto), values),
            "https://app.example/oauth2/start?rd=https%3A%2F%2Fapp.example%2Fa%3Fb%3D1");
  proto.set_signin_url("https://login.example/start?x=1");
  proto.set_signin_redirect_param("next");
  EXPECT_EQ(SigninLocation(*Compiled(proto), values),
            "https://login.example/start?x=1&next=https%3A%2F%2Fapp.example%2Fa%3Fb%3D1");
  proto.set_signin_url("https://login.example/start?next=$escaped_request_uri");
  EXPECT_EQ(SigninLocation(*Compiled(proto), values), "https://login.example/start?next=%2Fa%3Fb%3D1");
  // A parameter whose name only ends the same is not it.
  proto.set_signin_redirect_param("rd");
  proto.set_signin_url("https://login.example/start?ard=1");
  EXPECT_EQ(SigninLocation(*Compiled(proto), values),
            "https://login.example/start?ard=1&rd=https%3A%2F%2Fapp.example%2Fa%3Fb%3D1");
}

}  // namespace
}  // namespace pier::dataplane::external_auth
