{#-
    Months as first reported in one build (as_reported.py): var('as_reported_scopes') lists the
    authority months to publish ({la_code, period_end}). For each, two stand-in authorities hold the
    children whose figures the versions recorded after the month's cut-off can change: `<la>@<month end>`
    with their versions as known at the cut-off, `<la>#<month end>` with all their versions. Every KPI
    is a sum over children, so the figure as first reported is the authority's latest figure, less the
    second stand-in's, plus the first's (fct_kpi_as_reported). (`is not string`: a linter renders every
    var as a string.)
-#}
{% macro as_reported_scope_rows() -%}
{#- The authority months to publish as rows (la_code, period_end); none outside a publication. -#}
{%- set scopes = var('as_reported_scopes') -%}
{%- if scopes and scopes is not string -%}
{%- for scope in scopes %}
select
    '{{ scope.la_code }}' as la_code,
    cast('{{ scope.period_end }}' as date) as period_end
{{ 'union all' if not loop.last }}
{%- endfor -%}
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as la_code,
    cast(null as date) as period_end
where false
{%- endif -%}
{%- endmacro %}

{% macro stand_in_bounds(la_bounds) -%}
{#- The stand-ins' reporting bounds: their authority's, up to the month published. -#}
{%- set scopes = var('as_reported_scopes') -%}
{%- if scopes and scopes is not string -%}
{%- for scope in scopes -%}
{%- set outer = loop -%}
{%- for marker in ['@', '#'] %}
select
    '{{ scope.la_code ~ marker ~ scope.period_end }}' as la_code,
    first_event_date,
    last_event_date,
    cast('{{ scope.period_end }}' as date) as reporting_end_date
from {{ la_bounds }}
where la_code = '{{ scope.la_code }}'
{{ 'union all' if not (outer.last and loop.last) }}
{%- endfor -%}
{%- endfor -%}
{%- else %}
select *
from {{ la_bounds }}
where false
{%- endif -%}
{%- endmacro %}

{% macro is_stand_in(la_code) -%}
{%- set scopes = var('as_reported_scopes') -%}
{%- if scopes and scopes is not string -%}
{{ la_code }} in (
{%- for scope in scopes -%}
'{{ scope.la_code }}@{{ scope.period_end }}', '{{ scope.la_code }}#{{ scope.period_end }}'
{{- ', ' if not loop.last }}
{%- endfor -%})
{%- else -%}
false
{%- endif -%}
{%- endmacro %}
