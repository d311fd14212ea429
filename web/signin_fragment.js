// Runs first on the sign-in page, before the page is even parsed (a classic
// script in <head>): takes the URL fragment (#token=bp_…&next=/wall) off the
// address bar, so a token never stays visible, in history or in a
// screenshot, and hands it to signin.js.
window.__bpFragment = window.location.hash;
if (window.location.hash) window.history.replaceState(null, '', window.location.pathname + window.location.search);
