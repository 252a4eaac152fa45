# syntax=docker/dockerfile:1
# escape=`
FROM --platform=$X alpine AS base
ENV A=1 B="x y" C=`"q
ENV D e f
LABEL a=b `
  # comment

  c=d
ARG X Y=2
ONBUILD RUN echo hi
HEALTHCHECK --interval=5s CMD ["a"]
HEALTHCHECK NONE
RUN <<EOF <<-"B" cat
1
EOF
	2
	B
COPY <<EOF /x
$a
EOF
ENTRYPOINT []
