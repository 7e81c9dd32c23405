// Text the user typed, kept in this browser (localStorage) so that a reload or a closed tab
// loses nothing; forgotten on sign-out, so the next person at a shared computer does not see it.
const PREFIX = 'tradia.input.';

/** Restores `node`'s value (a textarea or input with an id) and keeps it as the user types. */
export function keepInput(node) {
  const key = PREFIX + node.id;
  try {
    const saved = localStorage.getItem(key);
    if (saved !== null && !node.value) {
      node.value = saved;
      node.dispatchEvent(new Event('input'));
    }
  } catch { /* private mode: nothing kept */ }
  node.addEventListener('input', () => {
    try {
      if (node.value) localStorage.setItem(key, node.value);
      else localStorage.removeItem(key);
    } catch { /* full or private: the text stays on the page only */ }
  });
}

/** Forgets every kept text (on sign-out). */
export function forgetInputs() {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith(PREFIX)) localStorage.removeItem(key);
  } catch { /* private mode */ }
}
