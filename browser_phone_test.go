package main

// Browser test of terminal mode on a phone held upright (issue 18): while
// connected the form folds away (the Form button brings it back), and with
// the on-screen keyboard up the terminal keeps at least 16 rows.

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// fakeVisualViewport replaces window.visualViewport, before the page's
// script runs, by one whose height the test sets, as an on-screen
// keyboard does: window.setVisibleHeight(h) shrinks it and fires resize.
// (Headless Chromium has no on-screen keyboard, and device emulation
// resizes both viewports at once.)
const fakeVisualViewport = `(() => {
	const real = window.visualViewport, fake = new EventTarget();
	let height = null;
	Object.defineProperties(fake, {
		height: { get: () => height ?? real.height },
		width: { get: () => real.width },
		scale: { get: () => 1 },
		offsetTop: { get: () => 0 },
	});
	window.visualViewport = fake; // [Replaceable]
	window.setVisibleHeight = (h) => { height = h; fake.dispatchEvent(new Event('resize')); };
})()`

// browserTestPhonePortrait: at 390x844 and at 390x480 (the part of a
// phone's screen that its keyboard leaves) the form is folded while
// connected, Disconnect, the status and the tools stay on screen, and the
// terminal has at least 16 rows even at 390x480; the Form button shows the
// form again. With the keyboard up (the visual viewport shorter than the
// window) the page fits the visible part.
func browserTestPhonePortrait(t *testing.T, browserCtx context.Context) {
	p := browserSetup(t, browserCtx)
	if _, err := chromedp.Call(p.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: fakeVisualViewport}); err != nil {
		t.Fatal(err)
	}
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(3)))
	p.openTerminal(p.echoAddr)
	p.wait("the greeting", browserTermHas("wstelnet echo server"))
	p.typeKeys("hello from a phone\r")
	p.wait("the answer", browserTermRowCount("hello from a phone")+` === 2`)

	type size struct{ Cols, Rows int }
	termSize := func() size {
		return browserEval[size](p, `({Cols: wstelnet.term.cols, Rows: wstelnet.term.rows})`)
	}
	shown := []string{"connect-button", "form-toggle", "status", "copy-button", "paste-button", "break-button", "save-button", "terminal", "keybar"}
	folded := func(what string) {
		t.Helper()
		for _, id := range []string{"host", "port", "mode", "charset"} {
			if browserEval[bool](p, browserVisible(id)) {
				t.Errorf("%s: #%s is shown while connected; the form should be folded", what, id)
			}
		}
		for _, id := range shown {
			if !browserEval[bool](p, browserVisible(id)) {
				t.Errorf("%s: #%s is not shown", what, id)
			}
		}
		p.checkFits(shown...)
		// The status's box runs under the buttons; its words are checked below.
		p.checkApart("connect-button", "form-toggle", "copy-button", "paste-button", "break-button", "save-button", "terminal", "keybar")
		// The status's words keep clear of the buttons beside it.
		if over := browserEval[float64](p, `(() => {
			const s = document.getElementById('status'), r = document.createRange();
			r.selectNodeContents(s);
			const words = r.getBoundingClientRect(), b = document.getElementById('form-toggle').getBoundingClientRect();
			return words.bottom > b.top && words.top < b.bottom ? words.right - b.left : 0;
		})()`); over > 0 {
			t.Errorf("%s: the status runs %v px under the Form button", what, over)
		}
	}

	folded("390x844")
	tall := termSize()
	t.Logf("390x844: %d columns, %d rows", tall.Cols, tall.Rows)
	if tall.Rows < 30 || tall.Cols < 40 {
		t.Errorf("390x844: the terminal is %dx%d", tall.Cols, tall.Rows)
	}
	p.screenshot("phone-390x844.png")

	p.do(chromedp.EmulateViewport(390, 480, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(3)))
	p.wait("the terminal refitted", `wstelnet.term.rows < `+itoa(tall.Rows))
	folded("390x480")
	short := termSize()
	t.Logf("390x480: %d columns, %d rows", short.Cols, short.Rows)
	if short.Rows < 16 || short.Cols < 40 {
		t.Errorf("390x480: the terminal is %dx%d, want at least 16 rows and 40 columns", short.Cols, short.Rows)
	}
	p.screenshot("phone-390x480.png")

	// Form brings the form back, and folds it again.
	p.tap("#form-toggle")
	p.wait("the form shown", browserVisible("host")+` && `+browserVisible("charset")+` && document.getElementById('form-toggle').getAttribute('aria-expanded') === 'true'`)
	p.checkFits("host", "port", "mode", "charset", "connect-button", "form-toggle")
	p.screenshot("phone-390x480-form.png")
	p.tap("#form-toggle")
	p.wait("the form folded again", `!(`+browserVisible("host")+`)`)

	// The keyboard comes up over a 390x844 window and leaves 480 px.
	p.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(3)))
	p.wait("the terminal tall again", `wstelnet.term.rows >= `+itoa(tall.Rows))
	p.do(chromedp.Evaluate[chromedp.Void](`setVisibleHeight(480)`))
	p.wait("the terminal above the keyboard", `wstelnet.term.rows < `+itoa(tall.Rows)+` &&
		document.getElementById('keybar').getBoundingClientRect().bottom <= 480`)
	kb := termSize()
	t.Logf("390x844 with 480 px visible: %d columns, %d rows", kb.Cols, kb.Rows)
	if kb.Rows < 16 {
		t.Errorf("with the keyboard up the terminal has %d rows, want at least 16", kb.Rows)
	}
	p.do(chromedp.Evaluate[chromedp.Void](`setVisibleHeight(null)`))
	p.wait("the terminal tall again once the keyboard is down", `wstelnet.term.rows >= `+itoa(tall.Rows))

	// Disconnected, the form is back.
	p.click("connect-button")
	p.wait("the form back", browserVisible("host"))
}

func itoa(n int) string { return browserJSON(n) }

// checkApart fails the test if two of the elements with these ids overlap
// on the screen (hidden ones aside).
func (p *browserPage) checkApart(ids ...string) {
	p.t.Helper()
	overlaps := browserEval[[]string](p, `((ids) => {
		const boxes = ids.map(id => [id, document.getElementById(id).getBoundingClientRect()]).filter(([, r]) => r.width > 0);
		const out = [];
		for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
			const [a, r] = boxes[i], [b, q] = boxes[j];
			if (r.left < q.right && q.left < r.right && r.top < q.bottom && q.top < r.bottom) out.push(a + ' and ' + b);
		}
		return out;
	})(`+browserJSON(ids)+`)`)
	for _, o := range overlaps {
		p.t.Errorf("#%s overlap", o)
	}
}
