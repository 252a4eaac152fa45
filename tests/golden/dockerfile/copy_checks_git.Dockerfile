FROM busybox
ADD https://github.com/moby/buildkit.git#v0.12 /src
COPY git@github.com:moby/buildkit.git /src
