FROM busybox
CMD ["echo", 'single']
RUN [not json
ENTRYPOINT ["unterminated"
CMD ['a']
VOLUME [/a /b]
