FROM busybox
WORKDIR a
WORKDIR b/c
WORKDIR ../d
WORKDIR /abs//x/.
