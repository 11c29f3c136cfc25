/// `/ui/app.js`, compiled into the binary: the only script of the UI (no inline script, so
/// the Content-Security-Policy can forbid them). It
/// - follows `/ui/events` (server-sent events): on `change` (and on `tick` on pages that
///   show rates) it fetches the page's `<main>` again (`X-Berth-Fragment: main`) and swaps
///   it in, one fetch at a time, keeping open `<details>`;
/// - keeps every `<time data-t>` counting ("12 s ago"), as `UIFormat.relative` writes it;
/// - filters the overview's rows by name and by "needs attention";
/// - gives a cell cut short by its column its whole text as a tooltip.
/// Pages work without it: they are whole HTML; only the live updates need it.
enum AppScript {
    static let js = """
        (function () {
          'use strict';
          var main = document.getElementById('main');
          var live = document.getElementById('live');
          var ticks = document.body.getAttribute('data-ticks') === '1';

          function rel(t, now) {
            var s = Math.round(now - t), m = Math.abs(s), a;
            if (m < 2) return s >= 0 ? 'just now' : 'now';
            if (m < 60) a = m + ' s';
            else if (m < 3600) a = Math.floor(m / 60) + ' min';
            else if (m < 86400) a = Math.floor(m / 3600) + ' h';
            else a = Math.floor(m / 86400) + ' d';
            return s > 0 ? a + ' ago' : 'in ' + a;
          }
          function updateTimes() {
            var now = Date.now() / 1000;
            var els = document.querySelectorAll('time[data-t]');
            for (var i = 0; i < els.length; i++) {
              var text = rel(Number(els[i].getAttribute('data-t')), now);
              if (els[i].textContent !== text) els[i].textContent = text;
            }
          }
          setInterval(updateTimes, 1000);

          var filter = document.getElementById('filter');
          var problems = document.getElementById('problems');
          function applyFilter() {
            if (!filter || !main) return;
            var q = filter.value.trim().toLowerCase(), only = problems && problems.checked, shown = 0;
            var rows = main.querySelectorAll('table.services tbody tr');
            for (var i = 0; i < rows.length; i++) {
              var name = rows[i].cells[0].textContent.toLowerCase();
              var show = (!q || name.indexOf(q) >= 0) && (!only || rows[i].classList.contains('p'));
              rows[i].hidden = !show;
              if (show) shown++;
            }
            var none = document.getElementById('nomatch');
            if (none) none.hidden = shown > 0 || rows.length === 0;
          }
          if (filter) filter.addEventListener('input', applyFilter);
          // A cell cut short by its column shows its whole text as a tooltip.
          document.addEventListener('mouseover', function (e) {
            var td = e.target && e.target.closest ? e.target.closest('td, li') : null;
            if (td && !td.title && td.scrollWidth > td.clientWidth + 1) td.title = td.textContent;
          });
          if (problems) problems.addEventListener('change', applyFilter);

          var inFlight = false, again = false, version = 0;
          function openDetails() {
            var out = [], els = main.querySelectorAll('details[id][open]');
            for (var i = 0; i < els.length; i++) out.push(els[i].id);
            return out;
          }
          function refresh() {
            if (!main) return;
            if (inFlight) { again = true; return; }
            inFlight = true;
            fetch(location.pathname + location.search, {
              headers: { 'X-Berth-Fragment': 'main' }, credentials: 'same-origin', cache: 'no-store'
            }).then(function (r) {
              if (!r.ok) throw new Error('HTTP ' + r.status);
              return r.text();
            }).then(function (html) {
              var open = openDetails();
              main.innerHTML = html;
              for (var i = 0; i < open.length; i++) {
                var d = document.getElementById(open[i]);
                if (d) d.open = true;
              }
              version++;
              main.setAttribute('data-refreshes', String(version));
              applyFilter();
              updateTimes();
            }).catch(function () { /* the next event tries again */ }).then(function () {
              inFlight = false;
              if (again) { again = false; refresh(); }
            });
          }
          function setLive(on, text) {
            if (!live) return;
            live.className = on ? 'live on' : 'live off';
            live.textContent = text;
          }

          if (main && window.EventSource && document.body.getAttribute('data-live') !== '0') {
            var seen = main.getAttribute('data-v'), opened = false;
            var es = new EventSource('/ui/events');
            es.addEventListener('hello', function (e) {
              setLive(true, 'live');
              // Something changed between this page's rendering and now, or while disconnected.
              if (opened || e.data !== seen) refresh();
              opened = true;
            });
            es.addEventListener('change', function (e) { seen = e.data; refresh(); });
            es.addEventListener('tick', function () { if (ticks) refresh(); });
            es.addEventListener('full', function () { setLive(false, 'waiting for a live place…'); });
            es.addEventListener('error', function () {
              setLive(false, es.readyState === 2 ? 'not live: reload the page' : 'reconnecting…');
            });
            window.addEventListener('pagehide', function () { es.close(); });
          }
          applyFilter();
        })();

        """
}
