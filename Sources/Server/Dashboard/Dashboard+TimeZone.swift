import Foundation
import HTTPTypes
import Hummingbird
import Runtime

/// The viewer's time zone: `GET /timezone` (the header's selector, a plain GET form) writes it
/// into the `kiothc_tz` cookie and returns to the page it came from; every page reads it.
extension Dashboard {
    /// `?tz=` (the list) or `?other=` (a typed IANA name, which wins when given) and `?next=`
    /// (the page to return to). The cookie is written even for a name the server does not
    /// know: the page then says so and shows UTC (`ViewerZone(cookie:)`), rather than failing.
    /// Needs no session: it only chooses how times are shown.
    func chooseZone(_ request: Request, scheme: String) -> Response {
        let parameters = request.uri.queryParameters
        let typed = String(parameters.get("other") ?? "").trimmingCharacters(in: .whitespaces)
        let chosen = typed.isEmpty ? String(parameters.get("tz") ?? "UTC") : typed
        var response = redirect(Self.localPath(parameters.get("next").map { String($0) }))
        let value = ViewerZone.cookieValue(String(chosen.prefix(ViewerZone.nameLimit + 1)))
        response.headers[.setCookie] =
            "\(ViewerZone.cookie)=\(value); Path=/; Max-Age=31536000; HttpOnly; SameSite=Lax\(scheme == "https" ? "; Secure" : "")"
        return response
    }

    /// `next` when it is a path of this server (`/` and printable ASCII, not `//host` or `/\host`,
    /// which browsers read as another host), else `/`: the selector is no open redirect.
    static func localPath(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.hasPrefix("/\\"), next.count <= 2_000,
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "\\" })
        else { return "/" }
        return next
    }

    /// The request's zone (its cookie) and what the selector offers on this page.
    func zoneChoice(_ request: Request, snapshot: ServingCatalog, own: String? = nil) -> DashboardPages.ZoneChoice {
        let back = request.uri.query.map { "\(request.uri.path)?\($0)" } ?? request.uri.path
        return DashboardPages.ZoneChoice(
            zone: ViewerZone(cookie: request.cookies[ViewerZone.cookie]?.value), fleet: overviewIndex.zones(of: snapshot), own: own,
            back: Self.localPath(back))
    }
}
