FROM busybox
COPY https://example.com/a.tar /a
