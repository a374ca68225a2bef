/** Test pages for the real-browser tests; `head` is the SDK script tag and init call. */

export function plainPage(head: string, title: string, next: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>${head}</head><body>
<header style="position:sticky;top:0;background:#fff"><button id="menu" class="nav-btn">Menu</button></header>
<main>
  <h1>${title}</h1>
  <button id="cta" class="btn btn-primary">Sign up</button>
  <a id="next" href="${next}">Next page</a>
  <form id="signup" onsubmit="event.preventDefault()">
    <input name="email" id="email"><input type="password" name="pw" id="pw">
    <button type="submit" id="send">Send</button>
  </form>
  <div data-weft-ignore><button id="ignored">Ignored</button></div>
  <p style="height:3000px">Tall content</p>
  <button id="bottom">Bottom</button>
</main></body></html>`;
}

/** A SPA with a pushState router: links, a redirect done with replaceState, state-only replaceState calls. */
export function spaPage(head: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>SPA</title>${head}</head><body>
<nav>
  <a data-route href="/spa/products" id="products">Products</a>
  <a data-route href="/spa/about" id="about">About</a>
  <a data-route href="/spa/old" id="old">Old</a>
  <a href="#details" id="anchor">Details</a>
</nav>
<main id="view"></main>
<p style="height:2000px"></p><h2 id="details">Details</h2>
<script>
  const titles = { '/spa/': 'Home', '/spa/products': 'Products', '/spa/about': 'About', '/spa/new': 'New' };
  function render() {
    document.title = titles[location.pathname] || 'Not found';
    document.getElementById('view').textContent = document.title;
    // Routers keep scroll state in history entries: same URL, no navigation.
    history.replaceState({ scroll: scrollY }, '');
  }
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-route]');
    if (!a) return;
    e.preventDefault();
    history.pushState({}, '', a.getAttribute('href'));
    if (location.pathname === '/spa/old') history.replaceState({}, '', '/spa/new');
    render();
  });
  addEventListener('popstate', render);
  render();
</script>
</body></html>`;
}

/**
 * Class names regenerated on every load, the way CSS modules, styled-components and emotion
 * hash them after each deploy, plus state classes and an author anchor.
 */
export function hashedPage(head: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Hashed</title>${head}</head><body>
<div id="root"></div>
<script>
  const pick = (chars, n) => Array.from({ length: n }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
  const lower = 'abcdefghijklmnopqrstuvwxyz', upper = lower.toUpperCase(), digits = '0123456789';
  const b64 = () => pick(lower + upper + digits, 4) + pick(digits, 1);
  const styled = () => pick(upper, 1) + pick(lower + upper, 5);
  const css = () => pick(digits, 1) + pick(lower + digits, 5);
  document.getElementById('root').innerHTML =
    '<ul class="List_list__' + b64() + '">' +
    [0, 1, 2].map((i) =>
      '<li class="List_item__' + b64() + (i === 1 ? ' is-active' : '') + '">' +
      '<button class="sc-' + styled() + ' ' + styled() + ' Button_primary__' + b64() + (i === 2 ? ' hover' : '') + '">Item ' + i + '</button></li>'
    ).join('') +
    '</ul><section data-weft-id="promo" class="css-' + css() + '"><span class="css-' + css() + '-Wrapper"><button>Promo</button></span></section>';
</script>
</body></html>`;
}

/** 50 buttons in a realistically nested list, for the per-click cost measurement. */
export function perfPage(head: string): string {
  const items = Array.from(
    { length: 50 },
    (_, i) =>
      `<li class="row Row_row__a1B2c"><div class="cell"><span class="wrap"><button class="btn btn-sm Button_b__x9Y8z" data-i="${i}">Action ${i}</button></span></div></li>`,
  ).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Perf</title>${head}</head><body>
<div class="app"><div class="layout"><main class="content"><section class="panel"><ul class="list">${items}</ul></section></main></div></div>
<p style="height:2000px"></p></body></html>`;
}

/** The dashboard side of visual definition: opens the site with the URL flag and collects messages. */
export function dashboardPage(target: string): string {
  return `<!doctype html><html><head><title>Dashboard</title></head><body>
<script>
  window.received = [];
  addEventListener('message', (e) => window.received.push({ origin: e.origin, data: e.data }));
  window.openSite = () => { window.site = window.open(${JSON.stringify(target)}, 'site'); };
</script></body></html>`;
}
