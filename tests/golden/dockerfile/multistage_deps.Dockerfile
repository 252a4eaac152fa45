FROM busybox AS base
RUN echo base

FROM base AS build
COPY --from=0 /etc/passwd /p
RUN --mount=type=cache,target=/cache --mount=type=bind,from=tools,source=/bin,target=/tools make

FROM alpine:3.19 AS tools
RUN true

FROM scratch AS unused
COPY --from=nginx:latest /etc/nginx /nginx

FROM scratch
COPY --from=build /out /out
