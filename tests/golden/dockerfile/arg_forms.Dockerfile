ARG BASE=busybox
ARG A B=2 "C=three words"
FROM $BASE
ARG A
ARG D=
