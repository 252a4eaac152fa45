ARG BASE=busybox
ARG A B=2 C="three words" D=${B}x
FROM $BASE
ARG A
ARG D=
