//! Documents Amazon owns in every account and region, as `DescribeDocument` shows them on AWS
//! (content reduced to what the agent and clients read: parameters, steps, properties).

/// (name, document type, content)
pub const AWS_DOCUMENTS: &[(&str, &str, &str)] = &[
    ("AWS-RunShellScript", "Command", RUN_SHELL_SCRIPT),
    (
        "AmazonCloudWatch-ManageAgent",
        "Command",
        MANAGE_CLOUDWATCH_AGENT,
    ),
    ("AWS-StartPortForwardingSession", "Session", PORT_FORWARDING),
    (
        "AWS-StartPortForwardingSessionToRemoteHost",
        "Session",
        PORT_FORWARDING_REMOTE,
    ),
    ("AWS-StartSSHSession", "Session", SSH_SESSION),
    (
        "AWS-StartInteractiveCommand",
        "Session",
        INTERACTIVE_COMMAND,
    ),
    (
        "AWS-StartNonInteractiveCommand",
        "Session",
        NON_INTERACTIVE_COMMAND,
    ),
];

pub const RUN_SHELL_SCRIPT: &str = r#"{"schemaVersion":"2.2","description":"Run a shell script or specify the commands to run.","parameters":{"commands":{"type":"StringList","description":"(Required) Specify a shell script or a command to run."},"workingDirectory":{"type":"String","default":"","description":"(Optional) The path to the working directory on your instance."},"executionTimeout":{"type":"String","default":"3600","description":"(Optional) The time in seconds for a command to complete before it is considered to have failed. Default is 3600 (1 hour). Maximum is 172800 (48 hours)."}},"mainSteps":[{"action":"aws:runShellScript","name":"runShellScript","inputs":{"runCommand":"{{ commands }}","workingDirectory":"{{ workingDirectory }}","timeoutSeconds":"{{ executionTimeout }}"}}]}"#;

/// AmazonCloudWatch-ManageAgent: the parameters of AWS's document; its Linux step calls
/// `amazon-cloudwatch-agent-ctl` as AWS's does (the stand-in agent on hastack-local hosts).
pub const MANAGE_CLOUDWATCH_AGENT: &str = r#"{"schemaVersion":"2.2","description":"Send commands to Amazon CloudWatch Agent","parameters":{"action":{"type":"String","description":"The action CloudWatch Agent should take.","default":"configure","allowedValues":["configure","configure (append)","configure (remove)","start","status","stop"]},"mode":{"type":"String","description":"Controls platform-specific default behavior such as whether to include EC2 Metadata in metrics.","default":"ec2","allowedValues":["ec2","onPremise","auto"]},"optionalConfigurationSource":{"type":"String","description":"Only for 'configure' related actions. Use 'ssm' to apply a ssm parameter as config. Use 'default' to apply default config for amazon-cloudwatch-agent. Use 'all' with 'configure (remove)' to clean all configs for amazon-cloudwatch-agent.","allowedValues":["ssm","default","all"],"default":"ssm"},"optionalConfigurationLocation":{"type":"String","description":"Only for 'configure' related actions. Only needed when Optional Configuration Source is set to 'ssm'. The value should be a ssm parameter name.","default":"","allowedPattern":"^[a-zA-Z0-9_.:/@#-]*$"},"optionalRestart":{"type":"String","description":"Only for 'configure' related actions. If 'yes', restarts the agent to use the new configuration. Otherwise the new config will only apply on the next agent restart.","default":"yes","allowedValues":["yes","no"]}},"mainSteps":[{"action":"aws:runShellScript","name":"ControlCloudWatchAgentLinux","inputs":{"timeoutSeconds":"3600","runCommand":["set -euo pipefail","action='{{ action }}' mode='{{ mode }}' source='{{ optionalConfigurationSource }}' location='{{ optionalConfigurationLocation }}' restart='{{ optionalRestart }}'","start=''; [ \"$restart\" = yes ] && start=-s","case \"$action\" in","  configure) [ \"$source\" = ssm ] || { echo \"hastack-local: only optionalConfigurationSource=ssm is supported\" >&2; exit 1; }; amazon-cloudwatch-agent-ctl -a fetch-config -m \"$mode\" -c \"ssm:$location\" $start ;;","  start|stop|status) amazon-cloudwatch-agent-ctl -a \"$action\" -m \"$mode\" ;;","  *) echo \"hastack-local: action $action is not supported\" >&2; exit 1 ;;","esac"]}}]}"#;

const PORT: &str = "^([1-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$";

const PORT_FORWARDING: &str = r#"{"schemaVersion":"1.0","description":"Document to start port forwarding session over Session Manager","sessionType":"Port","parameters":{"portNumber":{"type":"String","description":"(Optional) Port number of the server on the instance","allowedPattern":"PORT","default":"80"},"localPortNumber":{"type":"String","description":"(Optional) Port number on local machine to forward traffic to. An open port is chosen at run-time if not provided","allowedPattern":"^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$","default":"0"}},"properties":{"portNumber":"{{ portNumber }}","type":"LocalPortForwarding","localPortNumber":"{{ localPortNumber }}"}}"#;

const PORT_FORWARDING_REMOTE: &str = r#"{"schemaVersion":"1.0","description":"Document to start port forwarding session over Session Manager to a remote host","sessionType":"Port","parameters":{"host":{"type":"String","description":"(Required) The IP address or host name of the remote host"},"portNumber":{"type":"String","description":"(Optional) Port number of the server on the remote host","allowedPattern":"PORT","default":"80"},"localPortNumber":{"type":"String","description":"(Optional) Port number on local machine to forward traffic to. An open port is chosen at run-time if not provided","allowedPattern":"^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$","default":"0"}},"properties":{"host":"{{ host }}","portNumber":"{{ portNumber }}","type":"LocalPortForwarding","localPortNumber":"{{ localPortNumber }}"}}"#;

const SSH_SESSION: &str = r#"{"schemaVersion":"1.0","description":"Document to start SSH session","sessionType":"Port","parameters":{"portNumber":{"type":"String","description":"(Optional) Port number of SSH server on the instance","allowedPattern":"PORT","default":"22"}},"properties":{"portNumber":"{{ portNumber }}"}}"#;

const INTERACTIVE_COMMAND: &str = r#"{"schemaVersion":"1.0","description":"Document to run single interactive command on an instance","sessionType":"InteractiveCommands","parameters":{"command":{"type":"String","description":"The command to run on the instance"}},"properties":{"windows":{"commands":"{{command}}","runAsElevated":false},"linux":{"commands":"{{command}}","runAsElevated":false},"macos":{"commands":"{{command}}","runAsElevated":false}}}"#;

const NON_INTERACTIVE_COMMAND: &str = r#"{"schemaVersion":"1.0","description":"Document to run single non-interactive command on an instance","sessionType":"NonInteractiveCommands","parameters":{"command":{"type":"String","description":"The command to run on the instance"}},"properties":{"windows":{"commands":"{{command}}","runAsElevated":false},"linux":{"commands":"{{command}}","runAsElevated":false},"macos":{"commands":"{{command}}","runAsElevated":false}}}"#;

/// The content of an Amazon-owned document (its port pattern filled in).
pub fn content(name: &str) -> Option<(&'static str, String)> {
    AWS_DOCUMENTS
        .iter()
        .find(|(n, ..)| *n == name)
        .map(|(_, t, c)| (*t, c.replace("\"PORT\"", &format!("{PORT:?}"))))
}
