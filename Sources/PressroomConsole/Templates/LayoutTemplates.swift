/// The frame around every page: head with the nonce'd style and script,
/// navigation, footer. Everything dynamic goes through `{{…}}`, which
/// HTML-escapes; no template uses the unescaped `{{{…}}}` form.
enum LayoutTemplates {
    static let header = """
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="referrer" content="same-origin">
    <title>{{frame.title}} · Pressroom</title>
    <style nonce="{{frame.nonce}}">\(style)</style>
    </head>
    <body>
    <header class="top">
      <a class="brand" href="/console/">Pressroom</a>
      <nav>
        <a href="/console/"{{#frame.navOverview}} class="on"{{/frame.navOverview}}>Overview</a>
        <a href="/console/consumers"{{#frame.navConsumers}} class="on"{{/frame.navConsumers}}>Consumers</a>
        <a href="/console/dead"{{#frame.navDead}} class="on"{{/frame.navDead}}>Dead letters</a>
        <a href="/console/jobs"{{#frame.navJobs}} class="on"{{/frame.navJobs}}>Job lookup</a>
        {{#frame.hasOrders}}<a href="/console/orders"{{#frame.navOrders}} class="on"{{/frame.navOrders}}>Orders</a>{{/frame.hasOrders}}
      </nav>
      <span class="who">{{frame.user}}{{#frame.readOnly}} <span class="badge muted">read-only</span>{{/frame.readOnly}}</span>
    </header>
    <main>
    <h1>{{frame.title}}</h1>
    """

    static let footer = """
    </main>
    <footer>pressroom {{frame.version}} · namespace {{frame.namespace}} · rendered {{frame.generatedAt}}{{#frame.refresh}} · refreshes every <span id="every">{{.}}</span> s (paused while the tab is hidden){{/frame.refresh}}</footer>
    <script nonce="{{frame.nonce}}">\(script)</script>
    </body>
    </html>
    """

    /// Live refresh of `#live` (never below 2 s, paused while hidden) and
    /// the select-all box of the dead-letter list.
    static let script = """
    (function () {
      var live = document.getElementById('live');
      if (live) {
        var every = Math.max(2, parseInt(live.getAttribute('data-refresh') || '5', 10)) * 1000;
        var timer = null;
        var schedule = function () { if (!timer && !document.hidden) { timer = setTimeout(tick, every); } };
        var tick = function () {
          timer = null;
          if (document.hidden) { return; }
          fetch(location.href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
            .then(function (r) { return r.ok ? r.text() : null; })
            .then(function (html) {
              if (html) {
                var doc = new DOMParser().parseFromString(html, 'text/html');
                var fresh = doc.getElementById('live');
                if (fresh) { live.replaceChildren.apply(live, Array.prototype.slice.call(fresh.childNodes)); }
                live.setAttribute('data-updated', String(Date.now()));
              }
            })
            .catch(function () {})
            .then(schedule);
        };
        document.addEventListener('visibilitychange', function () {
          if (document.hidden) { clearTimeout(timer); timer = null; } else { tick(); }
        });
        schedule();
      }
      var all = document.getElementById('select-all');
      if (all) {
        all.addEventListener('change', function () {
          document.querySelectorAll('input[name=ref]').forEach(function (box) { box.checked = all.checked; });
        });
      }
    })();
    """

    static let style = """
    :root { --ink:#1d2330; --muted:#6b7385; --line:#e3e6ec; --bg:#f6f7f9; --card:#fff; --accent:#2f5bd3;
      --ok:#1f8a4c; --okbg:#e6f4ec; --warn:#a86400; --warnbg:#fdf1dc; --bad:#c0392b; --badbg:#fbe7e5; }
    * { box-sizing: border-box; }
    body { margin:0; font: 14px/1.45 "DejaVu Sans", "Liberation Sans", system-ui, sans-serif; color:var(--ink); background:var(--bg); }
    header.top { display:flex; align-items:center; gap:24px; padding:0 24px; height:48px; background:#1d2330; color:#fff; }
    header.top a { color:#c9d1e4; text-decoration:none; }
    header.top .brand { color:#fff; font-weight:700; letter-spacing:.02em; }
    header.top nav { display:flex; gap:4px; flex:1; }
    header.top nav a { padding:6px 12px; border-radius:6px; }
    header.top nav a.on, header.top nav a:hover { background:#2f3850; color:#fff; }
    header.top .who { color:#c9d1e4; font-size:13px; }
    main { max-width:1240px; margin:0 auto; padding:20px 24px 40px; }
    h1 { font-size:20px; margin:4px 0 16px; }
    h2 { font-size:15px; margin:24px 0 8px; }
    .card { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; margin-bottom:16px; }
    table { width:100%; border-collapse:collapse; background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden; }
    th, td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
    th { font-size:12px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); background:#fafbfc; font-weight:600; }
    tr:last-child td { border-bottom:none; }
    td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
    td.mono, .mono { font-family:"DejaVu Sans Mono", "Liberation Mono", monospace; font-size:12.5px; }
    td.reason { max-width:460px; overflow-wrap:anywhere; }
    .zero { color:#aab0bd; }
    a { color:var(--accent); }
    .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; white-space:nowrap; }
    .badge.ok { color:var(--ok); background:var(--okbg); }
    .badge.warn { color:var(--warn); background:var(--warnbg); }
    .badge.bad { color:var(--bad); background:var(--badbg); }
    .badge.muted { color:#c9d1e4; background:#2f3850; }
    .badge.plain { color:var(--muted); background:#eef0f4; }
    .tiles { display:grid; grid-template-columns:repeat(auto-fill, minmax(160px, 1fr)); gap:12px; margin-bottom:16px; }
    .tile { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 14px; }
    .tile .v { font-size:22px; font-weight:700; font-variant-numeric:tabular-nums; }
    .tile .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
    .tile.bad .v { color:var(--bad); }
    svg.chart { display:block; }
    svg.chart .ok { fill:#3aa76d; }
    svg.chart .failed { fill:#d9534f; }
    svg.chart .base { stroke:#d0d4dc; }
    .legend { color:var(--muted); font-size:12px; }
    .legend .sw { display:inline-block; width:9px; height:9px; border-radius:2px; margin:0 4px 0 10px; }
    .legend .sw.ok { background:#3aa76d; } .legend .sw.failed { background:#d9534f; }
    form.filters { display:flex; flex-wrap:wrap; gap:10px; align-items:flex-end; margin-bottom:14px; }
    form.filters label { display:flex; flex-direction:column; font-size:12px; color:var(--muted); gap:3px; }
    input[type=text], input[type=search], select { font:inherit; padding:5px 8px; border:1px solid #cdd2dc; border-radius:6px; background:#fff; min-width:120px; }
    button, .button { font:inherit; padding:6px 14px; border-radius:6px; border:1px solid #cdd2dc; background:#fff; color:var(--ink); cursor:pointer; text-decoration:none; display:inline-block; }
    button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
    button.danger { background:#fff; border-color:var(--bad); color:var(--bad); }
    button.danger.solid { background:var(--bad); color:#fff; }
    .actions { display:flex; gap:8px; align-items:center; margin:12px 0; flex-wrap:wrap; }
    .pager { display:flex; gap:8px; justify-content:flex-end; margin-top:12px; }
    .muted { color:var(--muted); }
    .empty { padding:24px; text-align:center; color:var(--muted); background:var(--card); border:1px dashed var(--line); border-radius:8px; }
    dl.facts { display:grid; grid-template-columns:180px 1fr; gap:6px 16px; margin:0; }
    dl.facts dt { color:var(--muted); }
    dl.facts dd { margin:0; overflow-wrap:anywhere; }
    pre.payload { background:#1d2330; color:#e6e9f0; padding:14px 16px; border-radius:8px; overflow:auto; max-height:480px; font:12.5px/1.5 "DejaVu Sans Mono", "Liberation Mono", monospace; white-space:pre-wrap; overflow-wrap:anywhere; }
    .notice { padding:10px 14px; border-radius:8px; margin-bottom:14px; border:1px solid; }
    .notice.ok { color:var(--ok); background:var(--okbg); border-color:#bfe3cd; }
    .notice.warn { color:var(--warn); background:var(--warnbg); border-color:#f3d9a6; }
    .notice.bad { color:var(--bad); background:var(--badbg); border-color:#f1c0ba; }
    footer { max-width:1240px; margin:0 auto; padding:0 24px 24px; color:var(--muted); font-size:12px; }
    """
}
