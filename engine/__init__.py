"""The engine: runs BPMN processes for parties; knows no Flask and no domain; the only SpiffWorkflow user.

Layers, lowest first. A module imports only modules of its own line or of earlier lines (a subpackage
counts as one module from outside; inside, its modules import each other freely, without a cycle).
tests/engine/test_init.py checks exactly this list against the code.

    config clock errors                     settings, the one clock, the errors every layer raises
    models kept_rows audit db pagination security  tables, kept rows, audit, units of work, pages, hashes, tokens
    throttle jobqueue mailer mailtexts      every layer writes: sign-in locks, jobs, mail, its texts
    sandbox scripting datastores bundle forms  untrusted code and XML made safe; data stores (session given)
    runtime                                 SpiffWorkflow's door: specs, lean state, one run, its events
    parties actions deployments script_helpers  who acts, the domain's task actions, process versions, what scripts ask
    timers services connectors subscriptions notifications  what an instance waits for, as jobs and rows; connectors
    execution                               load, run and save one instance; schedules, never runs a job
    tasks claims instances operations decisions inbox instance_data bulk  instances: start, act, operate, read
    diagrams monitoring modeling metrics health migrate summaries  what monitors and owners see; the schema's upkeep
    messages signals                        delivering messages (may start an instance) and broadcasting signals
    handlers                                the worker's job per kind: timers, service tasks, messages, mail
    jobs periodic worker                    claiming due jobs and running them; scheduled sweeps; the worker loop
"""
