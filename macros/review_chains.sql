{#-
    A review chain's state at a month end (kpis.md v2 "Review chains"), for the rows of `open_rows`
    (one per open plan or period and period_end, with la_code, child_id, period_end and the episode's id
    in `episode_id`) joined to their chain in int_reviews_sequenced (`reviews`): whether the first
    review was due by period_end, and whether every due date on or before it was met (no late review,
    and the next review not yet due: a due date on period_end itself is missed without a review).
-#}
{% macro review_chain_at_month_end(open_rows, reviews, episode_type, episode_id) -%}
    select
        *,
        first_due_date <= period_end as is_first_review_due,
        late_review_count = 0 and next_due_date > period_end as is_in_timescale
    from (
        select
            open_rows.la_code,
            open_rows.child_id,
            open_rows.{{ episode_id }} as episode_id,
            open_rows.period_end,
            chain.next_due_date,
            max(case when chain.review_seq = 0 then chain.next_due_date end) over (
                partition by open_rows.la_code, open_rows.{{ episode_id }}, open_rows.period_end
            ) as first_due_date,
            sum(case when chain.review_seq > 0 and not chain.is_on_time then 1 else 0 end) over (
                partition by open_rows.la_code, open_rows.{{ episode_id }}, open_rows.period_end
            ) as late_review_count,
            row_number() over (
                partition by open_rows.la_code, open_rows.{{ episode_id }}, open_rows.period_end
                order by chain.review_seq desc
            ) as recency_rank
        from {{ open_rows }} as open_rows
        inner join {{ reviews }} as chain
            on
                open_rows.la_code = chain.la_code
                and open_rows.{{ episode_id }} = chain.episode_id
                and chain.episode_type = '{{ episode_type }}'
                and chain.review_date <= open_rows.period_end
    ) as chain_states
    where recency_rank = 1
{%- endmacro %}
