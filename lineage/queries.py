"""The GraphQL documents the client sends, in one place.

JSON documents (config, summary, metadata) are selected where an object is looked up
or listed, and left out of lineage graphs (which may hold 10,000 nodes); a node that
lacks them loads them by id the first time they are read.
"""

from __future__ import annotations

from lineage.paging import connection

# name and state aliased: in a union with Artifact (name String!, another state enum)
# equal names of different types conflict
RUN_BASE = "id runId runName: name path runState: state createdAt updatedAt sweep { path }"
RUN = f"{RUN_BASE} config summary"
ARTIFACT_BASE = """id name path type version versionIndex digest aliases description state
  size fileCount createdAt ttlDurationSeconds expiresAt"""
ARTIFACT = f"{ARTIFACT_BASE} metadata"
SWEEP = "id sweepId name path config createdAt"
ENTRY = "path digest size ref extra"

NODE = f"""query($id: ID!) {{ node(id: $id) {{ __typename
  ... on Run {{ {RUN} }} ... on Artifact {{ {ARTIFACT} }} }} }}"""

VIEWER = "{ viewer { username defaultEntity { name } } }"

ARTIFACT_BY_PATH = f"query($path: String!) {{ artifact(path: $path) {{ {ARTIFACT} }} }}"
RUN_BY_PATH = f"query($path: String!) {{ run(path: $path) {{ {RUN} }} }}"
SWEEP_BY_PATH = f"query($path: String!) {{ sweep(path: $path) {{ {SWEEP} }} }}"

PROJECT = """query($entity: String!, $name: String!) { project(entity: $entity, name: $name) {
  id name visibility createdAt entity { name } } }"""

LOGGED_BY = f"""query($id: ID!) {{ node(id: $id) {{ ... on Artifact {{
  loggedBy {{ {RUN} }} }} }} }}"""

USED_BY = f"""query($id: ID!, $first: Int, $after: String) {{ node(id: $id) {{
  ... on Artifact {{ usedBy(first: $first, after: $after) {{ {connection(RUN)} }} }} }} }}"""

LOGGED_ARTIFACTS = f"""query($id: ID!, $type: String, $first: Int, $after: String) {{
  node(id: $id) {{ ... on Run {{ artifacts: loggedArtifacts(type: $type, first: $first, after: $after) {{
    {connection(ARTIFACT)} }} }} }} }}"""

USED_ARTIFACTS = f"""query($id: ID!, $type: String, $first: Int, $after: String) {{
  node(id: $id) {{ ... on Run {{ artifacts: usedArtifacts(type: $type, first: $first, after: $after) {{
    {connection(ARTIFACT)} }} }} }} }}"""

_GRAPH = f"""truncated edges {{ source target kind }}
  nodes {{ __typename ... on Run {{ {RUN_BASE} }} ... on Artifact {{ {ARTIFACT_BASE} }} }}"""

LINEAGE = f"""query($id: ID!, $direction: LineageDirection!, $depth: Int!, $limit: Int!) {{
  node(id: $id) {{
    ... on Run {{ runGraph: lineage(direction: $direction, depth: $depth, limit: $limit) {{ {_GRAPH} }} }}
    ... on Artifact {{ artifactGraph: lineage(direction: $direction, depth: $depth, limit: $limit) {{ {_GRAPH} }} }}
  }} }}"""

_ENTRIES_ARGS = "$id: ID!, $first: Int, $after: String, $prefix: String"
_ENTRIES_SELECT = "entries(first: $first, after: $after, prefix: $prefix)"

ENTRIES = f"""query({_ENTRIES_ARGS}) {{ node(id: $id) {{ ... on Artifact {{ manifest {{
  {_ENTRIES_SELECT} {{ {connection(ENTRY)} }} }} }} }} }}"""

# the same with signed URLs: signing costs the server a little, so only downloads ask
ENTRIES_WITH_URLS = f"""query({_ENTRIES_ARGS}) {{ node(id: $id) {{ ... on Artifact {{ manifest {{
  {_ENTRIES_SELECT} {{ {connection(ENTRY + " downloadUrl")} }} }} }} }} }}"""

BEST_RUN = f"""query($path: String!, $metric: String!, $goal: OptimizationGoal!) {{
  sweep(path: $path) {{ bestRun(metric: $metric, goal: $goal) {{ {RUN} }} }} }}"""

SWEEP_RUNS = f"""query($path: String!, $first: Int, $after: String, $order: RunOrder) {{
  sweep(path: $path) {{ runs(first: $first, after: $after, orderBy: $order) {{ {connection(RUN)} }} }} }}"""

PROJECT_RUNS = f"""query($entity: String!, $name: String!, $first: Int, $after: String, $order: RunOrder) {{
  project(entity: $entity, name: $name) {{
    runs(first: $first, after: $after, orderBy: $order) {{ {connection(RUN)} }} }} }}"""

# the newest version of each collection, in the same query as the list
PROJECT_ARTIFACTS = f"""query($entity: String!, $name: String!, $type: String, $first: Int, $after: String) {{
  project(entity: $entity, name: $name) {{
    artifactCollections(type: $type, first: $first, after: $after) {{
      {connection(f'name latest: version(alias: "latest") {{ {ARTIFACT} }}')} }} }} }}"""

COLLECTION_VERSIONS = f"""query($entity: String!, $name: String!, $collection: String!, $first: Int, $after: String) {{
  project(entity: $entity, name: $name) {{ artifactCollection(name: $collection) {{
    versions(first: $first, after: $after) {{ {connection(ARTIFACT)} }} }} }} }}"""

UPSERT_RUN = f"mutation($input: UpsertRunInput!) {{ upsertRun(input: $input) {{ {RUN} }} }}"

UPDATE_RUN = f"mutation($input: UpdateRunInput!) {{ updateRun(input: $input) {{ {RUN} }} }}"

LOG_ARTIFACT = f"""mutation($input: LogArtifactInput!) {{ logArtifact(input: $input) {{
  deduplicated uploads {{ path url headers }} artifact {{ {ARTIFACT} }} }} }}"""

COMMIT_ARTIFACT = f"mutation($id: ID!) {{ commitArtifact(id: $id) {{ {ARTIFACT} }} }}"

USE_ARTIFACT = f"""mutation($run: String!, $artifact: String!) {{
  useArtifact(input: {{run: $run, artifact: $artifact}}) {{ {ARTIFACT} }} }}"""
