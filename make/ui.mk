# UI targets: the landing page screenshot in docs/ comes from the headless Chromium test.
.PHONY: screenshot
## screenshot: re-render docs/landing-page.png (needs Debian's chromium)
screenshot:
	UPDATE_SCREENSHOT=1 $(GO) test -count=1 -run '^TestLandingPageInChromium$$' .
