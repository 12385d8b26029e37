// The Arduino side of examples/arduino: RTCBot's Arduino tutorial, with a
// start byte before every record so that either side finds its place again
// after a reset or noise on the line, and two motors to drive.
//
// The robot (main.go, rtcbot.SerialConnection) sends a control record
// whenever the command changes:
//
//   0xA5, then controlMessage: int16 left, int16 right (-255..255)
//   Go: WriteFormat "<hh", WriteKeys ["left", "right"], StartByte 0xA5
//
// and the sketch sends a sensor record ten times a second:
//
//   0xA5, then sensorMessage: uint8 sensorID, uint16 measurement
//   Go: ReadFormat "<BH", ReadKeys ["sensorID", "measurement"], StartByte 0xA5
//
// The structs are packed (no padding between fields) and little-endian, as
// AVR, ARM and ESP32 boards lay them out, and as "<" says on the Go side.
// The motors are driven through an L298N-style H-bridge; change the pins
// to suit yours. If no command comes for half a second (the robot program
// stopped, the cable came out), the motors stop.

#include <stdint.h>
#include <string.h>

const uint8_t START_BYTE = 0xA5;

typedef struct __attribute__((packed)) {
    int16_t left;
    int16_t right;
} controlMessage;

typedef struct __attribute__((packed)) {
    uint8_t sensorID;
    uint16_t measurement;
} sensorMessage;

// H-bridge pins: a PWM pin for each motor's speed, two for its direction.
const int LEFT_PWM = 5, LEFT_IN1 = 7, LEFT_IN2 = 8;
const int RIGHT_PWM = 6, RIGHT_IN1 = 9, RIGHT_IN2 = 10;

const unsigned long COMMAND_TIMEOUT_MS = 500; // stop without commands
const unsigned long RECORD_GAP_MS = 20;       // a record cut short: look for the next start byte
const unsigned long SENSOR_PERIOD_MS = 100;

uint8_t buf[sizeof(controlMessage)];
uint8_t have = 0;
bool inRecord = false;
unsigned long lastByte = 0, lastCommand = 0, lastSensor = 0;

void motor(int pwm, int in1, int in2, int16_t speed) {
    speed = constrain(speed, -255, 255);
    digitalWrite(in1, speed > 0 ? HIGH : LOW);
    digitalWrite(in2, speed < 0 ? HIGH : LOW);
    analogWrite(pwm, abs(speed));
}

void drive(int16_t left, int16_t right) {
    motor(LEFT_PWM, LEFT_IN1, LEFT_IN2, left);
    motor(RIGHT_PWM, RIGHT_IN1, RIGHT_IN2, right);
}

void setup() {
    Serial.begin(115200);
    int pins[] = {LEFT_PWM, LEFT_IN1, LEFT_IN2, RIGHT_PWM, RIGHT_IN1, RIGHT_IN2};
    for (int p : pins) {
        pinMode(p, OUTPUT);
    }
    drive(0, 0);
}

void loop() {
    unsigned long now = millis();

    // Read control records: wait for the start byte, then take the
    // record's bytes. The robot writes each record at once, so a gap in
    // the middle of one means it was cut short.
    while (Serial.available() > 0) {
        uint8_t b = Serial.read();
        if (inRecord && now - lastByte > RECORD_GAP_MS) {
            inRecord = false;
        }
        lastByte = now;
        if (!inRecord) {
            if (b == START_BYTE) {
                inRecord = true;
                have = 0;
            }
            continue;
        }
        buf[have++] = b;
        if (have == sizeof(buf)) {
            inRecord = false;
            controlMessage msg;
            memcpy(&msg, buf, sizeof(msg));
            drive(msg.left, msg.right);
            lastCommand = now;
        }
    }

    if (now - lastCommand > COMMAND_TIMEOUT_MS) {
        drive(0, 0);
    }

    // Send a sensor record: here the voltage on A0 (a battery through a
    // divider, say), 0 to 1023.
    if (now - lastSensor >= SENSOR_PERIOD_MS) {
        lastSensor = now;
        sensorMessage msg = {.sensorID = 0, .measurement = (uint16_t)analogRead(A0)};
        Serial.write(START_BYTE);
        Serial.write((const uint8_t *)&msg, sizeof(msg));
    }
}
