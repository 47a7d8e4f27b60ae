# A small image that runs `tmplstudio validate` on the folder mounted at /work:
#
#   docker build -t tmplstudio .
#   docker run --rm -v "$PWD:/work" tmplstudio                      # the project's templates
#   docker run --rm -v "$PWD:/work" tmplstudio --format sarif -o tmplstudio.sarif
#
# The wheel is built in a first stage, so the final image holds no build tools and no source.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY policies ./policies
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --create-home --uid 1000 checker
USER checker
# Nothing is cached between runs of a throw-away container; don't write a cache at all.
ENV TMPLSTUDIO_NO_CACHE=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /work
ENTRYPOINT ["tmplstudio", "validate"]
