FROM busybox
ONBUILD ADD . /app/src
ONBUILD RUN ["make"]
ONBUILD COPY --from=builder /a /b
