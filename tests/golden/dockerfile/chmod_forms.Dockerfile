FROM busybox
ARG MODE=0640
COPY --chmod=$MODE a /a
COPY --chmod=u+x,go-w b /b
COPY --chmod=7777 c /c
