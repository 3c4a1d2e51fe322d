// The page's height on phones. When an on-screen keyboard opens, most
// mobile browsers (Chrome on Android since version 108, Safari) shrink
// only the visual viewport: the layout viewport, and with it 100dvh, stays
// as tall as the screen, and the bottom of the terminal is hidden behind
// the keyboard. followVisualViewport sets --visible-height to the height
// still visible, which style.css gives the page, so that the terminal
// shrinks to fit above the keyboard. (Chrome also honours the viewport
// meta's interactive-widget=resizes-content, which shrinks the layout
// viewport itself; then the two agree and nothing is set.)

// followVisualViewport keeps root's --visible-height up to date; vv is
// window.visualViewport (absent in old browsers: nothing to do).
export function followVisualViewport(root, vv, win) {
  if (!vv) return;
  const update = () => {
    // Pinch-zooming shrinks the visual viewport too: then the page keeps
    // its size, and only an unzoomed, shorter view means a keyboard.
    if (vv.scale <= 1.01 && vv.height < win.innerHeight - 1) {
      root.style.setProperty('--visible-height', `${Math.floor(vv.height)}px`);
      // The browser may have scrolled the page to show the focused field;
      // the page now fits the visible part, so its top belongs there.
      if (vv.offsetTop > 0) win.scrollTo(0, 0);
    } else {
      root.style.removeProperty('--visible-height');
    }
  };
  vv.addEventListener('resize', update);
  update();
}
