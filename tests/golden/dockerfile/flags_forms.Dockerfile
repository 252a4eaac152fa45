FROM --platform=linux/amd64 busybox AS a
COPY --from=b --chown=1000:1000 --chmod=0644 --link a /b
COPY --chown="user name" --exclude=*.tmp --exclude='*.log' src/ /dst/
RUN --mount=type=cache,target=/root/.cache --mount=type=bind,source=x,target=/x --network=none echo hi
RUN --mount=a\ b -- --notaflag
ADD --checksum=sha256:abc --keep-git-dir=true https://example.com/a.tar /a
RUN -x
