# escape=`
FROM a
RUN echo a``
RUN b `
  c
