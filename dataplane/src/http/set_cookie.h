// proxy-cookie-domain/-path: the Domain and Path attributes of a backend's Set-Cookie rewritten
// as nginx's proxy_cookie_domain and proxy_cookie_path do, so an Ingress moved from
// ingress-nginx sends its clients the same cookies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "pier/v1/snapshot.pb.h"

namespace pier::dataplane::http {

// The Set-Cookie value with the rules applied, or nullopt when none applied (the value is then
// sent as the backend wrote it). Like nginx, a rewritten value is rebuilt from its parts: each
// part between ";"s with the spaces around its name and value dropped, joined by "; " (empty
// parts too, so "a=b;" ends in "; ").
// A value whose first part has no "=" is not a cookie and is left alone.
std::optional<std::string> RewriteSetCookie(std::string_view value, const pier::v1::CookieRewrite& rule);

}  // namespace pier::dataplane::http
