/// `/ui/app.css`, compiled into the binary (no CDN, no build step). System fonts; tables
/// of fixed layout whose cells end in an ellipsis rather than overflow; one colour per
/// badge tone (green good, blue moving, amber look soon, red act now, grey nothing to do).
enum AppStyle {
    static let css = """
        :root{--bg:#f5f6f8;--surface:#fff;--text:#1f2328;--muted:#5b636d;--line:#d8dde3;--head:#18202c;
        --ok-bg:#dcf5e3;--ok:#0f5e27;--info-bg:#dceefe;--info:#0b5cad;--warn-bg:#fff3c4;--warn:#6f4500;
        --bad-bg:#ffe4e1;--bad:#b4121d;--mute-bg:#e9edf1;--mute:#505860;--link:#0b5cad;
        --mono:ui-monospace,SFMono-Regular,"DejaVu Sans Mono",Menlo,Consolas,monospace}
        *{box-sizing:border-box}
        html{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--text);background:var(--bg)}
        body{margin:0}
        a{color:var(--link);text-decoration:none}
        a:hover{text-decoration:underline}
        code,pre{font-family:var(--mono);font-size:12.5px}
        h1{font-size:20px;margin:4px 0 6px}
        h2{font-size:15px;margin:22px 0 8px}
        h2 .muted,h2 .more{font-weight:normal;font-size:13px;margin-left:8px}
        .muted{color:var(--muted)}
        .top{display:flex;align-items:center;gap:18px;padding:0 20px;height:48px;background:var(--head);color:#e8edf3;position:sticky;top:0;z-index:2}
        .top a{color:#e8edf3}
        .brand{font-weight:700;font-size:16px;letter-spacing:.3px}
        .project{color:#aab4c0;max-width:260px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .top nav{display:flex;gap:4px}
        .top nav a{padding:6px 10px;border-radius:6px}
        .top nav a.on{background:#2d3848;font-weight:600}
        .live{font-size:12px;color:#aab4c0;white-space:nowrap}
        .live::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:#7b8591;margin-right:6px}
        .live.on{color:#b7f0c7}
        .live.on::before{background:#3fcf6e}
        .actions{margin-left:auto;display:flex;align-items:center;gap:10px;min-width:0}
        .actions form{margin:0}
        .hint{font-size:12px;color:#c4ccd6;max-width:420px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        button,.btn{font:inherit;font-size:13px;padding:5px 12px;border-radius:6px;border:1px solid #c4ccd6;background:#fff;color:var(--text);cursor:pointer;display:inline-block}
        .top .btn{color:var(--text)}
        button.primary{background:#1f7a3d;border-color:#1f7a3d;color:#fff;font-weight:600}
        button.primary:hover{background:#18652f}
        button.link{background:none;border:none;color:#c4ccd6;padding:5px 2px}
        button:disabled{opacity:.55;cursor:not-allowed}
        #notice .notice{margin:12px 20px 0;padding:8px 12px;background:var(--info-bg);color:var(--info);border-radius:6px}
        .toolbar{display:flex;gap:20px;align-items:center;padding:12px 20px 0;color:var(--muted)}
        .toolbar input[type=search]{font:inherit;padding:4px 8px;border:1px solid var(--line);border-radius:6px;width:260px;margin-left:6px}
        main{padding:12px 20px 40px;max-width:1600px}
        section{margin-bottom:8px}
        .summary dl{display:grid;grid-template-columns:2fr 1fr 1.4fr 1fr 1.2fr;gap:8px;margin:0 0 12px}
        .summary dd{white-space:normal;overflow-wrap:anywhere}
        @media (max-width:1000px){.summary dl{grid-template-columns:1fr 1fr}}
        .summary dl div,.facts div{background:var(--surface);border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:0}
        dt{font-size:11px;text-transform:uppercase;letter-spacing:.5px;color:var(--muted)}
        dd{margin:2px 0 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:8px;margin:10px 0}
        .facts dd{white-space:normal;overflow-wrap:anywhere}
        .facts code{display:inline-block;margin:1px 4px 1px 0}
        .subject{font-weight:600}
        .banner{margin:0 0 8px;padding:8px 12px;border-radius:8px;border:1px solid;overflow-wrap:anywhere}
        .banner p{margin:0}
        .banner ul{margin:4px 0 0;padding-left:20px;font-family:var(--mono);font-size:12.5px}
        .banner li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .banner details{margin:2px 0 0 20px}
        .banner summary{cursor:pointer;font-size:12.5px}
        .banner details[open] li{white-space:normal}
        .banner.bad{background:var(--bad-bg);border-color:#f3b6b0;color:#6e0b11}
        .banner.warn{background:var(--warn-bg);border-color:#ead48a;color:#4d3000}
        table{width:100%;border-collapse:collapse;background:var(--surface);border:1px solid var(--line);border-radius:8px;table-layout:fixed}
        th{text-align:left;font-size:12px;color:var(--muted);font-weight:600;background:#eef1f4;position:sticky;top:48px}
        th,td{padding:6px 10px;border-bottom:1px solid #e6e9ed;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;vertical-align:top}
        tbody tr:hover{background:#f7f9fb}
        td small{display:block;color:var(--muted);font-size:12px;overflow:hidden;text-overflow:ellipsis}
        b{display:inline-block;font-size:11.5px;font-weight:600;line-height:18px;padding:0 7px;border-radius:9px;white-space:nowrap;background:var(--ok-bg);color:var(--ok)}
        b.info{background:var(--info-bg);color:var(--info)}
        b.warn{background:var(--warn-bg);color:var(--warn)}
        b.bad{background:var(--bad-bg);color:var(--bad)}
        b.mute{background:var(--mute-bg);color:var(--mute)}
        .short{color:var(--warn);font-weight:600}
        .services th:nth-child(1){width:22%}.services th:nth-child(2){width:19%}.services th:nth-child(3){width:96px}
        .services th:nth-child(4){width:88px}.services th:nth-child(5){width:118px}.services th:nth-child(6){width:92px}
        .services th:nth-child(7){width:17%}.services th:nth-child(8){width:150px}
        .services td:nth-child(1){font-weight:600}
        .services td:nth-child(3){font-family:var(--mono);font-size:12.5px}
        .services td:nth-child(4){font-variant-numeric:tabular-nums}
        .services tr.p td:first-child{box-shadow:inset 3px 0 0 #d4a72c}
        .instances th:first-child{width:190px}.events th:first-child,.journal th:nth-child(2){width:110px}
        .events th:nth-child(2){width:170px}.events th:nth-child(3){width:100px}.events th:nth-child(5){width:80px}
        .events td:nth-child(4){white-space:normal}
        .journal th:first-child{width:56px}.journal th:nth-child(3){width:80px}.journal th:nth-child(4){width:116px}
        .journal th:nth-child(5){width:80px}.journal th:nth-child(6){width:80px}
        .journal td:last-child{white-space:normal}
        .journal ul{margin:0;padding:0;list-style:none}
        .journal li{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .journal li.hl{font-weight:600}
        .journal li.err{color:var(--bad);white-space:normal}
        td.probe{white-space:normal}
        pre{background:var(--surface);border:1px solid var(--line);border-radius:8px;padding:12px;overflow:auto;max-height:560px;margin:0;white-space:pre}
        .crumbs{margin:4px 0 0;color:var(--muted)}
        h1.name{display:flex;align-items:center;gap:12px;overflow-wrap:anywhere}
        h1.name .badges{display:flex;gap:6px;flex-wrap:wrap}
        .message{margin:0 0 6px;color:var(--muted);overflow-wrap:anywhere}
        .notes{margin:0 0 8px;padding-left:20px;overflow-wrap:anywhere}
        .empty{color:var(--muted);font-style:italic}
        .chart{width:100%;max-width:1000px;height:auto;background:var(--surface);border:1px solid var(--line);border-radius:8px;display:block}
        .chart .grid{stroke:#e6e9ed;stroke-width:1}
        .chart .axis{fill:#5b636d;font-size:11px;font-family:system-ui,sans-serif}
        .chart path{fill:none;stroke-width:2;stroke-linejoin:round}
        .chart path.rate{stroke:#0b5cad}
        .chart path.reps{stroke:#1f9d55;stroke-dasharray:5 3}
        .legend{margin:0 0 6px;color:var(--muted);font-size:12.5px}
        .key{display:inline-block;width:18px;height:3px;vertical-align:middle;margin:0 4px 0 10px}
        .key.rate{background:#0b5cad}.key.reps{background:#1f9d55}
        .filters{display:flex;gap:14px;align-items:center;margin:0 0 12px}
        .filters select{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:6px;max-width:320px}
        .login{max-width:440px;background:var(--surface);border:1px solid var(--line);border-radius:8px;padding:16px;display:flex;flex-direction:column;gap:10px}
        .login input[type=password]{font:inherit;padding:6px 8px;border:1px solid var(--line);border-radius:6px}
        [hidden]{display:none!important}

        """
}
