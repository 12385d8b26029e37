// Package livekit puts an rtcbot robot in a LiveKit room
// (github.com/livekit/server-sdk-go/v2), for a robot watched by several
// operators at once through an SFU instead of one peer connection each.
//
// JoinRobot joins a room as a participant and publishes the robot's
// camera and microphone through rtcbot's own send path: each source is
// encoded once, whether it goes to the room, to rtcbot Connections or
// both, and however many participants watch; its bitrate follows Google
// Congestion Control on the server's transport-wide feedback, and the
// server's keyframe requests reach the encoder. Operators' data packets
// arrive as RTCBot messages (a JSON value, or the string), as a
// Connection's data channel delivers them, with the sender's identity if
// wanted; an rtcbot.Watchdog subscribed to them stops the robot when they
// stop. JoinViewer is the operator's side: the robot's video decoded into
// rtcbot subscriptions, and controls sent as data packets. Token makes the
// join tokens both need from the server's API key and secret.
//
// A robot and its viewers get back into the room by themselves when the
// server restarts (ReconnectSettings). A refused or expired token is an
// error matching ErrUnauthorized, which is rtcbot.ErrUnauthorized.
//
// Diagnostics go to RobotSettings.Logger and ViewerSettings.Logger, the
// SDK's one level lower (its Info as Debug, its Error as Warn) and with the
// join token hidden. pion's logs under the SDK go to the SDK's process-wide
// logger, which this package points at slog.Default(), one level lower too
// (the SDK's own default writes every ICE step to the standard logger); a
// program may set another with lksdk.SetLogger.
//
// The package is apart from rtcbot so that programs that do not use
// LiveKit do not depend on its SDK.
package livekit
