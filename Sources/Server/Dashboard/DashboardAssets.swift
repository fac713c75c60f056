import HTTPTypes
import Hummingbird
import Runtime

/// The dashboard's only script and stylesheet, served from `/static/` so the pages can forbid
/// inline scripts and styles.
enum DashboardAssets {
    static func response(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "max-age=300"
        headers[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    /// Copy buttons (hidden without JavaScript, where the URL is selected by hand) and live
    /// refresh: every 10 s, fetch this page and swap its <main> in. Without JavaScript the
    /// page still works (and a <noscript> meta refresh reloads it every 30 s).
    static let script = """
        (function () {
          "use strict";
          function showCopyButtons() {
            if (!navigator.clipboard) { return; }
            document.querySelectorAll("button.copy[hidden]").forEach(function (button) { button.hidden = false; });
          }
          document.addEventListener("click", function (event) {
            var button = event.target.closest ? event.target.closest("button.copy") : null;
            if (!button) { return; }
            var source = document.getElementById(button.dataset.copy);
            if (!source) { return; }
            navigator.clipboard.writeText(source.textContent).then(function () {
              button.textContent = "Copied";
              window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
            }, function () { button.textContent = "Select the text to copy"; });
          });
          showCopyButtons();
          var main = document.querySelector("main[data-refresh]");
          if (!main) { return; }
          function refresh() {
            fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
              .then(function (response) { return response.ok ? response.text() : null; })
              .then(function (html) {
                if (!html) { return; }
                var doc = new DOMParser().parseFromString(html, "text/html");
                var fresh = doc.querySelector("main[data-refresh]");
                if (fresh) { main.replaceWith(fresh); main = fresh; showCopyButtons(); }
                var banner = doc.getElementById("reload-banner");
                var current = document.getElementById("reload-banner");
                if (current && !banner) { current.remove(); }
                if (banner && !current) { document.body.insertBefore(banner, document.body.firstChild); }
              })
              .catch(function () {});
          }
          window.setInterval(refresh, 10000);
        })();

        """

    static let style = """
        body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
        header { display: flex; justify-content: space-between; align-items: center; padding: 0.6rem 1.2rem; background: #263238; color: #fff; }
        header a { color: #fff; text-decoration: none; font-weight: 600; }
        header form { display: inline; }
        main { padding: 1rem 1.2rem; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid #e0e0e0; vertical-align: top; }
        th { font-size: 0.85rem; color: #555; }
        .status { display: inline-block; min-width: 4.5rem; padding: 0.1rem 0.4rem; border-radius: 3px; color: #fff; font-size: 0.85rem; text-align: center; }
        .status-new { background: #616161; } .status-up { background: #2e7d32; } .status-grace { background: #b45309; }
        .status-down { background: #c62828; } .status-paused { background: #546e7a; }
        .started { font-size: 0.8rem; color: #1565c0; }
        .hold { font-size: 0.8rem; color: #6a1b9a; }
        .tag { display: inline-block; background: #eceff1; border-radius: 3px; padding: 0 0.3rem; margin-right: 0.2rem; font-size: 0.8rem; }
        .muted { color: #777; font-size: 0.85rem; }
        .banner { background: #ffebee; border-bottom: 2px solid #c62828; padding: 0.6rem 1.2rem; }
        .banner pre { white-space: pre-wrap; margin: 0.3rem 0 0; }
        .error { color: #c62828; }
        pre.body { background: #fff; border: 1px solid #ddd; padding: 0.8rem; white-space: pre-wrap; word-break: break-all; }
        code { font-size: 0.85rem; }
        form.login { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 1.5rem; border: 1px solid #ddd; }
        form.login input[type=password] { width: 100%; padding: 0.4rem; margin: 0.5rem 0 1rem; box-sizing: border-box; }
        dl { display: grid; grid-template-columns: max-content auto; gap: 0.3rem 1rem; }
        dt { color: #555; }
        dd { margin: 0; }
        form.send-test { margin: 0.3rem 0; }
        ul.attempts { margin: 0; padding: 0; list-style: none; }
        .alert-state { font-weight: 600; } .alert-delivered { color: #2e7d32; } .alert-gave_up { color: #c62828; }
        .alert-pending { color: #b45309; } .alert-withdrawn { color: #777; }
        form.filters { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: end; padding: 0.8rem 1.2rem 0; }
        form.filters label { display: flex; flex-direction: column; font-size: 0.85rem; color: #444; }
        form.filters input, form.filters select, form.filters button { font-size: 1rem; padding: 0.3rem; }
        ul.notes { background: #fff8e1; border-left: 4px solid #ef6c00; padding: 0.5rem 0.5rem 0.5rem 1.8rem; }
        .counts a.count { display: inline-block; margin: 0 0.3rem 0.3rem 0; padding: 0.15rem 0.5rem; border-radius: 3px; color: #fff; text-decoration: none; }
        .counts a.count[data-status=all] { background: #eceff1; color: #222; }
        .counts a.chosen { outline: 3px solid #263238; }
        nav.pages { margin: 0.6rem 0; }
        .table-wrap { overflow-x: auto; }
        code.url { word-break: break-all; font-size: 0.75rem; }
        body.wall { background: #111; color: #eee; }
        body.wall main { padding: 0.8rem; }
        body.wall a { color: #fff; }
        body.wall .muted { color: #aaa; }
        .wall-counts { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-bottom: 0.8rem; }
        .wall-count { padding: 0.3rem 0.8rem; border-radius: 4px; font-size: 1.2rem; color: #fff; }
        a.tile .muted { color: inherit; font-size: inherit; }
        .wall-count strong { font-size: 2rem; }
        .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0.6rem; }
        a.tile { display: flex; flex-direction: column; gap: 0.3rem; min-height: 6rem; padding: 0.8rem; border-radius: 6px; text-decoration: none; color: #fff; overflow-wrap: anywhere; }
        .tile-name { font-size: 1.4rem; font-weight: 600; }
        .tile-status { font-size: 1.1rem; text-transform: uppercase; }
        .tile-meta { font-size: 0.85rem; opacity: 0.9; }
        .tile-new { background: #616161; } .tile-up { background: #1b5e20; } .tile-grace { background: #b45309; }
        .tile-down { background: #b71c1c; } .tile-paused { background: #455a64; }
        header { flex-wrap: wrap; gap: 0.4rem 1rem; }
        header .tools { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 1rem; }
        form.tz { display: flex; flex-wrap: wrap; align-items: center; gap: 0.3rem; font-size: 0.85rem; }
        form.tz select, form.tz input { max-width: 16rem; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible { outline: 3px solid #1565c0; outline-offset: 2px; }
        header a:focus-visible, header button:focus-visible { outline-color: #ffca28; }
        caption { text-align: left; font-size: 0.85rem; color: #555; padding: 0.3rem 0; }
        .running { font-size: 0.85rem; color: #0d47a1; }
        .kind { font-weight: 600; } .kind.kind-fail { color: #b71c1c; } .kind.kind-success { color: #1b5e20; } .kind.kind-start { color: #0d47a1; }
        ol.strip { display: flex; flex-wrap: wrap; gap: 2px; list-style: none; padding: 0; margin: 0.3rem 0; }
        .mark { display: inline-block; width: 0.6rem; height: 1.4rem; border-radius: 2px; background: #9e9e9e; vertical-align: middle; }
        .legend .mark { height: 0.8rem; }
        .mark.kind-success { background: #2e7d32; } .mark.kind-fail { background: #c62828; } .mark.kind-start { background: #1565c0; }
        .mark.kind-log { background: #757575; } .mark.kind-ign { background: #bdbdbd; }
        figure.durations { margin: 0.8rem 0; max-width: 40rem; }
        svg.chart { width: 100%; height: 8rem; background: #fff; border: 1px solid #e0e0e0; }
        svg.chart .bar { fill: #2e7d32; } svg.chart .bar.kind-fail { fill: #c62828; }
        svg.chart .axis { stroke: #bbb; stroke-dasharray: 4 4; }
        figcaption { font-size: 0.85rem; color: #555; }
        button.copy { font-size: 0.8rem; margin-left: 0.3rem; }
        .counts span.count { display: inline-block; margin: 0 0.3rem 0.3rem 0; padding: 0.15rem 0.5rem; border-radius: 3px; color: #fff; }
        body.status-page main { max-width: 48rem; margin: 0 auto; }
        .summary { font-size: 1.2rem; } .summary.has-problems { color: #b71c1c; font-weight: 600; }
        .muted { color: #5f5f5f; }
        th { color: #444; }
        @media (max-width: 600px) {
          .tiles { grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); } .tile-name { font-size: 1.1rem; } main { padding: 0.6rem; }
          header { padding: 0.5rem 0.6rem; } form.filters { padding: 0.6rem 0.6rem 0; } dl { grid-template-columns: auto; } dd { margin-bottom: 0.4rem; }
        }

        """
}
