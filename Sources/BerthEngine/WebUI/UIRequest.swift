import BerthNet
import Foundation

/// What the web UI reads from a request and adds to every answer: cookies, form fields, a
/// safe "back" path, the security headers, and the same-origin check of form posts.
extension HTTPServer.Request {
    /// The value of cookie `name` (the first one sent).
    func cookie(_ name: String) -> String? {
        guard let header = header("Cookie") else { return nil }
        for pair in header.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            if parts[0].trimmingCharacters(in: .whitespaces) == name {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// The fields of an `application/x-www-form-urlencoded` body (the last of a name wins);
    /// empty for any other body.
    var formFields: [String: String] {
        guard let type = header("Content-Type"), type.lowercased().hasPrefix("application/x-www-form-urlencoded") else {
            return [:]
        }
        return FormEncoding.decode(String(decoding: body, as: UTF8.self))
    }

    /// Whether a form post comes from a page of this server: an `Origin` header, when sent,
    /// names the `Host` the request was sent to, and `Sec-Fetch-Site`, when sent, says
    /// same-origin. (The CSRF token is checked as well; this refuses cross-site posts early.)
    var isSameOrigin: Bool {
        if let site = header("Sec-Fetch-Site"), site != "same-origin" && site != "none" { return false }
        guard let origin = header("Origin") else { return true }
        guard let host = header("Host"), let range = origin.range(of: "://") else { return false }
        return origin[range.upperBound...].lowercased() == host.lowercased()
    }

    /// Whether the browser reached this server over TLS (a reverse proxy says so).
    var isHTTPS: Bool { header("X-Forwarded-Proto")?.lowercased() == "https" }
}

/// `application/x-www-form-urlencoded`: `a=1&b=x+y` → ["a": "1", "b": "x y"].
enum FormEncoding {
    static func decode(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1
                ? (String(parts[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "") : ""
            out[key] = value
        }
        return out
    }
}

enum UIHeaders {
    /// On every page: scripts and styles only from this server (no inline script or style),
    /// no framing, no plug-ins, forms post only here; no MIME sniffing; the referrer stays
    /// on this server (a form post still sends its `Origin`, which `isSameOrigin` checks).
    static let security: [String: String] = [
        "Content-Security-Policy":
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            + "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": "no-store",
    ]

    /// The session cookie's name: one per project, so two watches on one host (cookies do
    /// not tell ports apart) keep their sessions.
    static func cookieName(project: String) -> String {
        let safe = project.unicodeScalars.map { c -> String in
            (c.properties.isAlphabetic && c.isASCII) || ("0"..."9").contains(c) || c == "-" || c == "_" ? String(c) : "_"
        }.joined()
        return "berth_session_" + safe
    }

    /// `Set-Cookie` for a session (HttpOnly, SameSite=Strict, Path=/; Secure over TLS).
    static func sessionCookie(name: String, value: String, maxAge: Int, secure: Bool) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    static func clearedCookie(name: String, secure: Bool) -> String {
        sessionCookie(name: name, value: "", maxAge: 0, secure: secure)
    }

    /// `back` when it is a path of this server (`/…`, not `//…`, no backslash or control
    /// character), else `/`: a redirect never leaves the site.
    static func safeBack(_ back: String?) -> String {
        guard let back, back.hasPrefix("/"), !back.hasPrefix("//"),
            !back.unicodeScalars.contains(where: { $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F })
        else { return "/" }
        return back
    }

    /// `path` with `?notice=` (or `&notice=`) set, any earlier notice removed.
    static func withNotice(_ path: String, _ notice: PageContext.Notice) -> String {
        let parts = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        var query = parts.count > 1 ? parts[1].split(separator: "&").filter { !$0.hasPrefix("notice=") }.map(String.init) : []
        query.append("notice=" + notice.rawValue)
        return String(parts[0]) + "?" + query.joined(separator: "&")
    }
}
