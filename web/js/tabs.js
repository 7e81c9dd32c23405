// WAI-ARIA tabs: roving tabindex, arrow keys (following the reading direction), Home/End.
// The selected tab is remembered in the URL fragment so a reload stays on it. Fragments that
// name another view of the page (`views`, e.g. #account) are left to that view.

export function initTabs(tablist, views = []) {
  const tabs = [...tablist.querySelectorAll('[role="tab"]')];
  const select = (tab, focus, keepHash = false) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute('aria-selected', String(on));
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) tab.focus();
    const name = tab.id.replace(/^tab-/, '');
    if (!keepHash && location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  };
  tablist.addEventListener('click', (e) => {
    const tab = e.target.closest('[role="tab"]');
    if (tab) select(tab, false);
  });
  tablist.addEventListener('keydown', (e) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const rtl = getComputedStyle(tablist).direction === 'rtl';
    let next = null;
    if (e.key === 'ArrowRight') next = rtl ? index - 1 : index + 1;
    else if (e.key === 'ArrowLeft') next = rtl ? index + 1 : index - 1;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = tabs.length - 1;
    if (next === null) return;
    e.preventDefault();
    select(tabs[(next + tabs.length) % tabs.length], true);
  });
  const fromHash = () => tabs.find((tab) => tab.id === `tab-${location.hash.slice(1)}`);
  // A link or a typed address such as /#text opens that tab, on load or later.
  window.addEventListener('hashchange', () => { const tab = fromHash(); if (tab) select(tab, false); });
  select(fromHash() ?? tabs[0], false, views.includes(location.hash.slice(1)));
}
