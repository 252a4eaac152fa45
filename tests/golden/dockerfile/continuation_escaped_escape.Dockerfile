FROM a
RUN echo a\\
RUN b
RUN c \\  
RUN d
\
RUN e
